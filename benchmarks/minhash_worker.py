"""One implementation's run over the cached shingles, in its own process (``minhash_bench.py``).

Row by row, as dedup does: the signature, the most similar kept row at estimated Jaccard
>= the threshold, and an insert when there is none. Rows are keyed by their position.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from minhash_bench import NUM_PERM, SEED, SEPARATOR, THRESHOLD, reset_peak_rss, rss_mib


def implementation(name: str):
    """(signature, nearest, insert, similarity) functions of one implementation."""
    if name == "rensa":
        from factory.hygiene.minhash import LSHIndex, MinHasher, similarity

        hasher, index = MinHasher(NUM_PERM, SEED), LSHIndex(THRESHOLD, NUM_PERM)
        return hasher.signature, index.nearest, index.insert, similarity
    if name == "handwritten":
        import handwritten_minhash as hw

        hasher, index = hw.MinHasher(NUM_PERM, SEED), hw.LSHIndex(THRESHOLD, NUM_PERM)
        return hasher.signature, index.nearest, index.insert, hw.similarity
    return _datasketch()


def _datasketch():
    import handwritten_minhash as hw
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    permutations = MinHash(NUM_PERM, seed=SEED).permutations
    index = MinHashLSH(THRESHOLD, NUM_PERM, params=hw.lsh_bands(THRESHOLD, NUM_PERM))
    stored: dict[int, np.ndarray] = {}

    def signature(shingles):
        minhash = MinHash(NUM_PERM, seed=SEED, permutations=permutations, scheme="affine32")
        minhash.update_batch([shingle.encode() for shingle in shingles])
        return minhash

    def nearest(minhash):
        best = None
        for key in sorted(index.query(minhash)):
            score = float(np.mean(minhash.hashvalues == stored[key]))
            if score >= THRESHOLD and (best is None or score > best[1]):
                best = (key, score)
        return best

    def insert(key, minhash):
        index.insert(key, minhash)
        stored[key] = minhash.hashvalues

    return signature, nearest, insert, lambda first, second: first.jaccard(second)


def run(name: str, path: Path, stop_at: int | None, resume_from: Path | None) -> dict:
    signature, nearest, insert, _ = implementation(name)
    start, kept_before, rebuild_s = 0, set(), 0.0
    if resume_from is not None:
        state = json.loads(resume_from.read_text())
        start, kept_before = state["stopped_at"], set(state["kept"])
    reset_peak_rss()
    base = rss_mib("VmRSS")
    pairs, kept = [], []
    signature_s = index_s = 0.0
    with path.open() as handle:
        for i, text in enumerate(handle):
            if stop_at is not None and i >= stop_at:
                break
            shingles = text.rstrip("\n").split(SEPARATOR) if text != "\n" else []
            if i < start:
                if i in kept_before:
                    began = time.perf_counter()
                    insert(i, signature(shingles))
                    rebuild_s += time.perf_counter() - began
                continue
            began = time.perf_counter()
            sig = signature(shingles)
            signed = time.perf_counter()
            match = nearest(sig)
            if match is None:
                insert(i, sig)
                kept.append(i)
            else:
                pairs.append([i, match[0], match[1]])
            index_s += time.perf_counter() - signed
            signature_s += signed - began
    return {
        "name": name,
        "signature_s": signature_s,
        "minhash_s": signature_s + index_s,
        "rebuild_s": rebuild_s,
        "peak_mib": rss_mib("VmHWM") - base,
        "pairs": pairs,
        "kept": kept,
    }
