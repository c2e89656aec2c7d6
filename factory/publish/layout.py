"""Where a dataset's splits live in a Hub repository, shared by the card and the push.

The card's ``configs`` point each split at :func:`data_files_pattern`; the push writes shards
named by :func:`shard_path`, which that pattern matches. Rows dropped by dedup or
decontamination (split ``dropped``) stay local: they are benchmark copies and duplicates,
exactly what a published dataset must not carry. Empty splits are not published, because
``datasets.load_dataset`` fails on a declared split whose files hold no rows.
"""

from __future__ import annotations

LOCAL_ONLY_SPLITS = frozenset({"dropped"})


def published_splits(rows: dict[str, int]) -> list[str]:
    """The splits a push uploads (and the card declares): every split with rows, except the
    local-only ones."""
    return [name for name, n in rows.items() if n > 0 and name not in LOCAL_ONLY_SPLITS]


def data_files_pattern(split: str) -> str:
    """The glob matching a split's shards in the repository."""
    return f"data/{split}-*"


def shard_path(split: str, index: int, shards: int) -> str:
    return f"data/{split}-{index:05d}-of-{shards:05d}.parquet"
