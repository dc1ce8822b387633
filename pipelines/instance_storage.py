"""Dagster's SQLite storage with one open connection per database instead of one per event.

Dagster's stock SQLite event log builds a new SQLAlchemy engine, opens the file and
commits with a full fsync for every event. A 90-day run writes about 9,500 asset events
(planned + materialized, ~50 assets × 90 partitions), and at ~10 ms each that bookkeeping
was the largest single cost of a tier M build (BENCHMARKS.md, "outside steps"). Here each
database keeps a cached engine, and WAL commits use `synchronous=NORMAL` (SQLite's
recommended setting for WAL: an application crash loses nothing, a power cut can lose the
last commits of the run history, never corrupt it). Layout and schema are Dagster's own,
so the UI, the daemon and `c360 status` read the same files; only the connection handling
differs. Tied to Dagster 1.13 internals (`_connect`), which pyproject pins.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection

STORAGE_MODULE = __name__
STORAGE_CLASS = "CachedSqliteStorage"
# Run shards stay open while a run writes to them; the webserver reading old runs must not
# accumulate file handles, so only the most recent few are kept.
OPEN_RUN_SHARDS = 8


def storage_config(base_dir: str | dict[str, str]) -> dict[str, Any]:
    """The `storage:` block of a dagster.yaml using this storage (base_dir may be `{env: VAR}`)."""
    return {"custom": {"module": STORAGE_MODULE, "class": STORAGE_CLASS, "config": {"base_dir": base_dir}}}


class CachedSqliteEventLogStorage(SqliteEventLogStorage):
    """Per-run SQLite event shards plus the index shard, each behind a cached engine."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, db.Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> CachedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> db.Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = db.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=db.pool.SingletonThreadPool,  # one connection per thread; _db_lock serializes use
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            db.event.listen(engine, "connect", _relaxed_wal_sync)
            self._engines[shard] = engine
            run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
            for name in run_shards[:-OPEN_RUN_SHARDS]:
                self._engines.pop(name).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


def _relaxed_wal_sync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class CachedSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (runs, events, schedules) with the cached event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = CachedSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Any) -> CachedSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)

    @property
    def event_storage_data(self) -> ConfigurableClassData | None:
        import yaml

        return ConfigurableClassData(
            STORAGE_MODULE,
            "CachedSqliteEventLogStorage",
            yaml.dump({"base_dir": _event_logs_directory(self.base_dir)}, default_flow_style=False),
        )
