"""Dataset hygiene: every accepted row is screened for duplicates and benchmark copies.

- ``normalise``: code without names, comments, docstrings, annotations or layout;
- ``minhash``: deterministic MinHash signatures and a banded LSH index (rensa's);
- ``dedup``: exact (normalised) and near (MinHash, Jaccard >= 0.85) duplicates, first kept;
- ``benchmarks``: HumanEval, MBPP and user benchmark files as one task type;
- ``decontam``: 13-gram description overlap, 10-token code overlap, normalised-code equality;
- ``stage``: the screen the generation loop applies (dropped rows go to the ``dropped`` split).
"""
