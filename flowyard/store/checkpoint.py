"""SQLite's write-ahead log copied back into the database file off the event loop.

By default the commit that makes the WAL pass 1,000 pages also copies them into the database
file and syncs it: under load one commit in a few dozen took 10 to 40 ms, and the event loop
(every request of the process) waited for it. A server's connections instead leave the WAL to
a thread of their own that checkpoints it every ``interval`` seconds (``PASSIVE``: it never
waits for readers or writers, and SQLite runs it without holding the GIL). The connections
keep a far automatic checkpoint as a backstop, should the thread fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import sqlalchemy as sa

log = logging.getLogger("flowyard.store")

BACKSTOP_PAGES = 10_000  # the connections' own automatic checkpoint (about 40 MB of WAL)


class Checkpointer:
    """A daemon thread checkpointing one SQLite database file until :meth:`stop`."""

    def __init__(self, db: sa.Engine, interval: float = 0.1) -> None:
        self.path = db.url.database
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flowyard-checkpoint", daemon=True)

    @classmethod
    def applies(cls, db: sa.Engine) -> bool:
        """Only a SQLite database in a file has a log to checkpoint."""
        return db.dialect.name == "sqlite" and db.url.database not in (None, "", ":memory:")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the next round, or the backstop, catches up
                    log.debug("checkpoint skipped: %s", exc)
        finally:
            conn.close()
