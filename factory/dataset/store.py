"""The durable store under ``DIR/state/``: every finished problem, committed as it finishes.

SQLite in WAL mode with ``synchronous=FULL`` rather than an append-only JSONL file, because:

- a commit is atomic: after SIGKILL (or power loss) a row is either wholly there or absent,
  so there is no torn last line to detect and trim on resume;
- the slot number is the primary key, so a finished slot can never be stored twice, whatever
  goes wrong above;
- lookups the loop needs while it runs (is this slot done? was this title produced?) are
  indexed queries instead of an in-memory set that grows with ``--count``;
- readers (``codefactory stats``, the export) see a consistent snapshot while a run writes.

Rows are stored as the JSON of their pydantic record and validated again when read. The run's
configuration fingerprint lives in the ``meta`` table; reopening with a different one is
refused unless forced, and forced changes are kept in ``config_history``. A lock file held with
``flock`` stops two runs writing to the same directory (the kernel drops it if a run is killed).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from factory.errors import ConfigError, FactoryError
from factory.out_dir import refuse_changed_settings, settings_changes
from factory.records import AbandonedSlot, ProblemRecord, Split, title_key
from factory.run_fingerprint import RunFingerprint

STATE_DIR = "state"
STORE_FILE = "store.sqlite"
LOCK_FILE = "lock"
STORE_FORMAT = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS slots (
    slot INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('problem', 'abandoned')),
    split TEXT,
    problem_id TEXT UNIQUE,
    title_key TEXT,
    topic TEXT,
    record TEXT NOT NULL,
    committed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS slots_title ON slots (title_key);
CREATE INDEX IF NOT EXISTS slots_split ON slots (kind, split, slot);
CREATE INDEX IF NOT EXISTS slots_topic ON slots (topic, slot);
CREATE TABLE IF NOT EXISTS config_history (at TEXT NOT NULL, config TEXT NOT NULL);
"""


class StoreLocked(FactoryError):
    """Another process is generating into the same output directory."""


def state_dir(out_dir: Path) -> Path:
    return out_dir / STATE_DIR


def store_path(out_dir: Path) -> Path:
    return state_dir(out_dir) / STORE_FILE


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunStore:
    """Open with :meth:`open` (writing) or :meth:`open_readonly` (stats, export of a copy)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._lock_handle = None
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._unrecorded: RunFingerprint | None = None  # accepted by open, not yet stored
        if readonly:
            uri = f"file:{path}?mode=ro"
            self._reader = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._writer = None
        else:
            self._writer = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._writer.execute("PRAGMA synchronous=FULL")
            self._writer.executescript(_SCHEMA)
            self._reader = sqlite3.connect(path, check_same_thread=False)
        self._reader.execute("PRAGMA query_only=ON")

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        out_dir: Path,
        config: RunFingerprint,
        *,
        force_config: bool = False,
        defer_record: bool = False,
    ) -> RunStore:
        """Opens (or creates) the store of ``out_dir`` for a run with ``config``.

        ``config`` is checked here, once. A new or forced one is recorded here too, unless
        ``defer_record``: then by :meth:`record_config`, or at the latest before the first
        commit (a run refused after opening, say by an unreachable endpoint, changes nothing).

        Raises:
            ConfigError: ``out_dir`` holds something else, or a run with another configuration
                (unless ``force_config``).
            StoreLocked: another run is writing to ``out_dir``.
        """
        path = store_path(out_dir)
        if not path.exists():
            cls.check_new_dir(out_dir)
        try:
            state_dir(out_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create --out {out_dir}: {exc.strerror or exc}") from None
        lock = _take_lock(state_dir(out_dir) / LOCK_FILE, out_dir)
        try:
            store = cls(path)
        except BaseException:
            lock.close()
            raise
        store._lock_handle = lock
        try:
            store._adopt_config(config, force_config)
            if not defer_record:
                store.record_config()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open_readonly(cls, out_dir: Path) -> RunStore:
        path = store_path(out_dir)
        if not path.is_file():
            raise ConfigError(
                f"{out_dir} has no {STATE_DIR}/{STORE_FILE}: is it a `codefactory generate` --out?"
            )
        try:
            return cls(path, readonly=True)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None

    @staticmethod
    def check_new_dir(out_dir: Path) -> None:
        """Refuses an ``--out`` that exists and holds something other than a run."""
        if not out_dir.exists():
            return
        if not out_dir.is_dir():
            raise ConfigError(f"--out {out_dir} is a file: give a directory")
        if any(out_dir.iterdir()):
            raise ConfigError(
                f"--out {out_dir} exists and is not a codefactory output directory "
                f"(no {STATE_DIR}/{STORE_FILE}): choose a new or empty directory"
            )

    def check_config(self, config: RunFingerprint, *, force: bool) -> bool:
        """Whether ``config`` must be recorded; raises if it conflicts with the stored rows.

        A different configuration is refused only once rows exist: before that (say the
        first run stopped on a mistyped --model) nothing could be mixed up.
        """
        stored_format = self.meta("store_format")
        if stored_format is not None and int(stored_format) > STORE_FORMAT:
            raise ConfigError(
                f"{self.path} was written by a newer codefactory (store format "
                f"{stored_format}): upgrade codefactory to continue it"
            )
        previous = self.config()
        if previous is None:
            return True
        if previous == config:
            return False
        if not force and self._query("SELECT 1 FROM slots LIMIT 1"):
            refuse_changed_settings(
                self.path.parent.parent,
                settings_changes(previous, config),
                force_flag="--force-config",
            )
        return True

    def _adopt_config(self, config: RunFingerprint, force: bool) -> None:
        if self.meta("store_format") is None:
            self._set_meta({"store_format": str(STORE_FORMAT), "created_at": now_iso()})
        if self.check_config(config, force=force):
            self._unrecorded = config

    def record_config(self) -> None:
        """Records the configuration :meth:`open` accepted, if it is new or forced."""
        if self._unrecorded is None:  # the common case, every commit: no lock taken
            return
        with self._write_lock:
            config, self._unrecorded = self._unrecorded, None
            if config is None:  # another thread's commit recorded it meanwhile
                return
            text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.execute("INSERT OR REPLACE INTO meta VALUES ('config', ?)", (text,))
            self._writer.execute("INSERT INTO config_history VALUES (?, ?)", (now_iso(), text))
            self._writer.execute("COMMIT")

    def _set_meta(self, values: dict[str, str]) -> None:
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
            self._writer.execute("COMMIT")

    # ------------------------------------------------------------------ writing
    def commit(self, item: ProblemRecord | AbandonedSlot) -> bool:
        """Stores one finished slot durably; returns False if its problem id was already stored.

        A statement identical to a stored one (same content id) is stored as an abandoned
        slot instead, so the dataset never holds the same problem twice.
        """
        self.record_config()  # no row is stored under a configuration the store does not hold
        if isinstance(item, ProblemRecord):
            row = (
                item.provenance.slot,
                "problem",
                item.split.value,
                item.id,
                title_key(item.title),
                item.topic,
                item.model_dump_json(),
                now_iso(),
            )
        else:
            row = (
                item.slot,
                "abandoned",
                None,
                None,
                None,
                None,
                item.model_dump_json(),
                now_iso(),
            )
        with self._write_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                self._writer.execute("INSERT INTO slots VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
                self._writer.execute("COMMIT")
                return True
            except sqlite3.IntegrityError as exc:
                self._writer.execute("ROLLBACK")
                if not isinstance(item, ProblemRecord) or "problem_id" not in str(exc):
                    raise
        self.commit(
            AbandonedSlot(
                slot=item.provenance.slot,
                stage="problem",
                reason=f"duplicate of the stored problem {item.id}",
                usage=item.usage,
                finished_at=item.provenance.finished_at,
            )
        )
        return False

    # ------------------------------------------------------------------ reading
    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def config(self) -> RunFingerprint | None:
        """The run's fingerprint, validated (older layouts are read as the current one)."""
        text = self.meta("config")
        if not text:
            return None
        try:
            return RunFingerprint.model_validate_json(text)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
            if problem.startswith("written by a newer codefactory"):
                raise ConfigError(f"{self.path} was {problem}") from None
            raise ConfigError(
                f"{self.path}: the stored run configuration is unreadable ({problem}): "
                "use another --out"
            ) from None

    def is_done(self, slot: int) -> bool:
        return bool(self._query("SELECT 1 FROM slots WHERE slot = ?", (slot,)))

    def title_taken(self, title: str) -> bool:
        return bool(self._query("SELECT 1 FROM slots WHERE title_key = ?", (title_key(title),)))

    def recent_titles(self, topic: str, limit: int) -> list[str]:
        """Titles most recently produced for ``topic``, newest first (for the proposer)."""
        rows = self._query(
            "SELECT json_extract(record, '$.title') FROM slots "
            "WHERE kind = 'problem' AND topic = ? ORDER BY slot DESC LIMIT ?",
            (topic, limit),
        )
        return [row[0] for row in rows]

    def counts(self) -> dict[str, int]:
        """Finished slots per split, plus ``abandoned``; every split is present."""
        counts = {split.value: 0 for split in Split}
        counts["abandoned"] = 0
        for kind, split, n in self._query(
            "SELECT kind, split, COUNT(*) FROM slots GROUP BY kind, split"
        ):
            counts["abandoned" if kind == "abandoned" else split] = n
        return counts

    def problems_done(self) -> int:
        return self._query("SELECT COUNT(*) FROM slots WHERE kind = 'problem'")[0][0]

    def iter_records(self, split: Split | str | None = None) -> Iterator[ProblemRecord]:
        """Streams stored problems in slot order, validated (memory stays flat)."""
        for text in self._iter_json("problem", split):
            yield ProblemRecord.model_validate_json(text)

    def iter_abandoned(self) -> Iterator[AbandonedSlot]:
        for text in self._iter_json("abandoned", None):
            yield AbandonedSlot.model_validate_json(text)

    def _iter_json(self, kind: str, split: Split | str | None, batch: int = 256) -> Iterator[str]:
        last = -1
        split_value = Split(split).value if split is not None else None
        while True:
            if split_value is None:
                rows = self._query(
                    "SELECT slot, record FROM slots WHERE kind = ? AND slot > ? "
                    "ORDER BY slot LIMIT ?",
                    (kind, last, batch),
                )
            else:
                rows = self._query(
                    "SELECT slot, record FROM slots WHERE kind = ? AND split = ? AND slot > ? "
                    "ORDER BY slot LIMIT ?",
                    (kind, split_value, last, batch),
                )
            if not rows:
                return
            for _, text in rows:
                yield text
            last = rows[-1][0]

    def close(self) -> None:
        for connection in (self._writer, self._reader):
            if connection is not None:
                connection.close()
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _take_lock(path: Path, out_dir: Path):
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StoreLocked(
            f"{out_dir} is being written by {holder}: wait for it to finish or stop it first"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle
