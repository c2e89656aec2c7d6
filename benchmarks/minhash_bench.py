"""Near-duplicate search on synthetic rows: rensa (what dedup uses), datasketch, hand-written.

    .venv/bin/python benchmarks/minhash_bench.py [--rows 100000] [--seed 0] [--rounds 1]
    (datasketch: pip install -e '.[bench]')

The rows (``minhash_rows.py``) are problem statements and solutions with exact and near
duplicates planted at known rates. Each row is shingled once, exactly as dedup does it
(``factory.hygiene.dedup.row_shingles``: the statement's word 3-shingles and the normalised
solution's token 5-shingles), and the shingle sets are cached in a file. Then each MinHash
implementation runs in a fresh process on the same shingles, the way dedup runs: row by row,
the signature (128 permutations, seed 1), the most similar kept row at estimated Jaccard >= 0.85
(band candidates confirmed by their estimate), and the row inserted if it was not a duplicate.

- ``rensa``: ``factory.hygiene.minhash`` (rensa's ``RMinHash`` and ``RMinHashLSH``);
- ``datasketch``: ``MinHash`` (its default ``affine32`` scheme, permutations shared across
  rows, ``update_batch``) and ``MinHashLSH`` with the hand-written version's bands;
- ``handwritten``: the numpy version dedup used before (``handwritten_minhash.py``).

Printed per implementation: time spent in MinHash (signatures, index queries and inserts;
reading the cached shingles is left out), peak memory as resident set size (the process's
VmHWM, reset before the run, minus its VmRSS then: rensa allocates outside Python's heap,
which tracemalloc would not see), and the duplicates found: recall on the planted copies by
their true Jaccard similarity, drops that are not planted copies, pairs found below the
threshold, and agreement between implementations. The resume check stops rensa half-way,
then rebuilds its index in another process from the kept rows and goes on: it must drop
exactly the rows the uninterrupted run dropped.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

THRESHOLD = 0.85
NUM_PERM = 128
SEED = 1
IMPLEMENTATIONS = ("rensa", "datasketch", "handwritten")
SEPARATOR = "\x1e"  # between shingles on a line; the synthetic rows never contain it
BUCKETS = ((0.0, 0.8), (0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.01))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic rows")
    parser.add_argument("--exact-rate", type=float, default=0.05)
    parser.add_argument("--near-rate", type=float, default=0.10)
    parser.add_argument("--rounds", type=int, default=1, help="runs per implementation (best)")
    parser.add_argument("--only", nargs="+", choices=IMPLEMENTATIONS, default=IMPLEMENTATIONS)
    parser.add_argument("--worker", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--shingles", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stop-at", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--resume-from", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        from minhash_worker import run

        result = run(args.worker, args.shingles, args.stop_at, args.resume_from)
        print(json.dumps(result))
        return
    bench(args)


def bench(args: argparse.Namespace) -> None:
    from minhash_rows import generate

    if "datasketch" in args.only and importlib.util.find_spec("datasketch") is None:
        raise SystemExit(
            "datasketch is not installed: pip install -e '.[bench]', or leave it out with "
            "--only rensa handwritten"
        )
    print(f"machine: {machine()}")
    print(f"load average at start: {load()}")
    started = time.perf_counter()
    rows = generate(args.rows, args.seed, args.exact_rate, args.near_rate)
    print(
        f"rows: {len(rows)} (seed {args.seed}) generated in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(Counter(r.kind for r in rows).items()))
    )
    path, shingling_s = shingle_file(rows, args)
    print(
        f"shingling as dedup does it (normalising the code included): "
        f"{shingling_s / len(rows) * 1e3:.2f} ms/row, once for all implementations"
    )
    planted = {i: (r.kind, int(r.source[1:])) for i, r in enumerate(rows) if r.source}
    results = {}
    for name in args.only:
        runs = [worker(name, path) for _ in range(args.rounds)]
        if any(run["pairs"] != runs[0]["pairs"] for run in runs):
            raise SystemExit(f"{name}: two runs found different duplicates")
        results[name] = min(runs, key=lambda run: run["minhash_s"])
    if "rensa" in args.only:
        resume_check(path, len(rows), results["rensa"])
    report(results, planted, path, len(rows))
    print(f"load average at end: {load()}")


def shingle_file(rows, args) -> tuple[Path, float]:
    """The rows' shingle sets, one line each, cached by everything that decides them."""
    from factory.hygiene.dedup import row_shingles

    hygiene = HERE.parent / "factory/hygiene"
    sources = [
        HERE / "minhash_rows.py",
        *(hygiene / f for f in ("dedup.py", "minhash.py", "normalise.py")),
    ]
    key = hashlib.sha256(b"".join(path.read_bytes() for path in sources))
    key.update(f"{args.rows} {args.seed} {args.exact_rate} {args.near_rate}".encode())
    cache = Path(tempfile.gettempdir()) / "codefactory-minhash-bench"
    cache.mkdir(exist_ok=True)
    path = cache / f"shingles-{key.hexdigest()[:16]}.txt"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())["shingling_s"]
    spent = 0.0
    with path.with_suffix(".part").open("w") as out:
        for row in rows:
            start = time.perf_counter()
            shingles = row_shingles(row.description, row.solution)
            spent += time.perf_counter() - start
            out.write(SEPARATOR.join(sorted(shingles)) + "\n")
    path.with_suffix(".part").rename(path)
    meta.write_text(json.dumps({"shingling_s": spent}))
    return path, spent


def worker(name: str, path: Path, *extra: str) -> dict:
    command = [sys.executable, __file__, "--worker", name, "--shingles", str(path), *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} worker failed:\n{done.stderr}")
    return json.loads(done.stdout)


def resume_check(path: Path, count: int, full: dict) -> None:
    half = count // 2
    with tempfile.TemporaryDirectory() as tmp:
        kept = Path(tmp) / "kept.json"
        first = worker("rensa", path, "--stop-at", str(half))
        kept.write_text(json.dumps({"stopped_at": half, "kept": first["kept"]}))
        second = worker("rensa", path, "--resume-from", str(kept), "--stop-at", str(count))
    same = first["pairs"] + second["pairs"] == full["pairs"]
    print(
        f"resume check (rensa, stopped at row {half}, index rebuilt from {len(first['kept'])} "
        f"kept rows in {second['rebuild_s']:.2f} s in a new process): "
        + ("the same duplicates as the uninterrupted run" if same else "DIFFERENT duplicates")
    )
    if not same:
        raise SystemExit(1)


def report(results: dict, planted: dict, path: Path, count: int) -> None:
    needed = {i for run in results.values() for pair in run["pairs"] for i in pair[:2]}
    needed |= set(planted) | {source for _, source in planted.values()}
    sets = load_sets(path, needed)

    def jaccard(a: int, b: int) -> float:
        return len(sets[a] & sets[b]) / len(sets[a] | sets[b])

    truth = {i: jaccard(i, source) for i, (_, source) in planted.items()}
    exact = [i for i, (kind, _) in planted.items() if kind == "exact"]
    near = [i for i, (kind, _) in planted.items() if kind == "near"]
    print()
    print("| | " + " | ".join(results) + " |")
    print("| --- |" + " --- |" * len(results))
    line("MinHash time (signatures + index)", results, lambda r: f"{r['minhash_s']:.2f} s")
    line("  of which signatures", results, lambda r: f"{r['signature_s']:.2f} s")
    line("  per row", results, lambda r: f"{r['minhash_s'] / count * 1e6:.1f} us")
    line("peak RSS over the start", results, lambda r: f"{r['peak_mib']:.0f} MiB")
    line("rows dropped", results, lambda r: str(len(r["pairs"])))
    line("duplicate groups", results, lambda r: str(groups(r["pairs"])))
    line(
        f"exact copies found (of {len(exact)})",
        results,
        lambda r: recall(r, exact),
    )
    for low, high in BUCKETS:
        members = [i for i in near if low <= truth[i] < high]
        label = f"near copies, true J {low:.2f}-{min(high, 1):.2f}, dropped (of {len(members)})"
        line(label, results, lambda r, members=members: recall(r, members))
    line(
        "drops that are not planted copies",
        results,
        lambda r: str(sum(1 for row, *_ in r["pairs"] if row not in planted)),
    )
    line(
        f"pairs found with true J < {THRESHOLD}",
        results,
        lambda r: str(sum(1 for a, b, _ in r["pairs"] if jaccard(a, b) < THRESHOLD)),
    )
    errors = {name: estimate_errors(name, near, planted, truth, sets) for name in results}
    line(
        "estimate minus true J on the near copies: mean, sd",
        results,
        lambda r: "{:+.4f}, {:.4f}".format(*errors[r["name"]]),
    )
    print()
    dropped = {name: {row for row, *_ in r["pairs"]} for name, r in results.items()}
    for first, second in combinations(results, 2):
        only_first = dropped[first] - dropped[second]
        only_second = dropped[second] - dropped[first]
        spread = [truth.get(i) for i in only_first | only_second if i in truth]
        span = f", their true J {min(spread):.2f} to {max(spread):.2f}" if spread else ""
        print(
            f"agreement {first} / {second}: {len(dropped[first] & dropped[second])} dropped by "
            f"both, {len(only_first)} only by {first}, {len(only_second)} only by {second}{span}"
        )


def estimate_errors(name: str, near: list, planted: dict, truth: dict, sets: dict):
    """How far the implementation's estimate is from the true similarity, over the planted
    near copies with true J from 0.7 to 0.95 (where the threshold decides)."""
    from minhash_worker import implementation

    signature, _, _, similarity = implementation(name)
    errors = []
    for i in near:
        if 0.7 <= truth[i] < 0.95:
            source = planted[i][1]
            estimate = similarity(signature(sets[i]), signature(sets[source]))
            errors.append(estimate - truth[i])
    return statistics.mean(errors), statistics.stdev(errors)


def line(label: str, results: dict, cell) -> None:
    print(f"| {label} | " + " | ".join(cell(r) for r in results.values()) + " |")


def recall(result: dict, members: list[int]) -> str:
    if not members:
        return "-"
    found = {row for row, *_ in result["pairs"]}
    hits = sum(1 for i in members if i in found)
    return f"{hits} ({hits / len(members):.1%})"


def groups(pairs: list) -> int:
    """Connected groups of rows linked by a found pair (each group one kept row)."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            i = parent[i]
        return i

    for row, matched, _ in pairs:
        parent[root(row)] = root(matched)
    return len({root(i) for i in parent})


def load_sets(path: Path, indices: set[int]) -> dict[int, set[str]]:
    sets = {}
    with path.open() as handle:
        for i, text in enumerate(handle):
            if i in indices:
                sets[i] = set(text.rstrip("\n").split(SEPARATOR))
    return sets


def rss_mib(field: str) -> float:
    for text in open("/proc/self/status"):
        if text.startswith(field + ":"):
            return int(text.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> None:
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")


def machine() -> str:
    cpu = "?"
    for text in open("/proc/cpuinfo"):
        if text.startswith("model name"):
            cpu = text.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
