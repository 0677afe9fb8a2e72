"""The write path's parts: time-ordered SIDs, group commit off the event loop, SQLite's
background checkpoint, the frozen heap."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from flowyard import heap
from flowyard.sids import SID_RE, new_sid
from flowyard.store import create_db_engine, write
from flowyard.store.checkpoint import Checkpointer
from flowyard.store.db import BUSY_TIMEOUT_MS, Busy, Plan, Statement, write_if_free
from flowyard.store.group import GroupCommit
from flowyard.testing.mocks import run_sync
from tests.conftest import _database_url, _drop_database


def test_sids_are_well_formed_and_grow_with_time() -> None:
    first = [new_sid("FT") for _ in range(1000)]
    assert all(SID_RE.match(sid) for sid in first)
    assert len(set(first)) == 1000  # 80 random bits after the millisecond
    time.sleep(0.002)
    later = new_sid("FT")
    assert later > max(first)


def test_a_forked_process_draws_other_random_bits_than_its_parent() -> None:
    new_sid("FT")  # the parent holds a block of random bytes now
    read, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only reports
        os.write(write_end, new_sid("FT").encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    ours = new_sid("FT")
    assert SID_RE.match(theirs)
    assert theirs[14:] != ours[14:]  # the 80 random bits after the time


def _table(db: sa.Engine) -> sa.Table:
    table = sa.Table(
        "t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Text)
    )
    table.metadata.create_all(db)
    return table


def test_group_commit_writes_in_one_thread_off_the_loop(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'g.db'}")
    table = _table(db)
    group = GroupCommit(db)
    threads: set[str] = set()

    def insert(value: str):  # type: ignore[no-untyped-def]
        def work(conn: sa.Connection) -> str:
            threads.add(threading.current_thread().name)
            if value == "bad":
                conn.execute(table.insert(), {"id": 1, "v": "duplicate id"})
            conn.execute(table.insert(), {"v": value})
            return value

        return work

    async def main() -> list[object]:
        return await asyncio.gather(
            *(group.run(insert(v)) for v in ["a", "b", "bad", "c"]), return_exceptions=True
        )

    try:
        with write(db) as conn:
            conn.execute(table.insert(), {"id": 1, "v": "first"})
        results = run_sync(main)
    finally:
        group.close()
    # The batch failed as a whole (id 1 exists), so each ran alone: its own result or error.
    assert results[:2] == ["a", "b"] and results[3] == "c"
    assert isinstance(results[2], sa.exc.IntegrityError)
    assert threads and all(name.startswith("flowyard-commit") for name in threads)
    with db.connect() as conn:
        values = sorted(conn.execute(sa.select(table.c.v)).scalars())
    assert values == ["a", "b", "c", "first"]
    db.dispose()


def test_a_write_if_free_never_waits_for_sqlites_write_lock(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'w.db'}")
    table = _table(db)

    def insert(conn: sa.Connection, value: str) -> str:
        conn.execute(table.insert(), {"v": value})
        return value

    try:
        with write(db) as holder:  # another writer holds the lock
            holder.execute(table.insert(), {"v": "held"})
            with pytest.raises(Busy):
                write_if_free(db, insert, "refused")
        assert write_if_free(db, insert, "free") == "free"
        # Every connection (the pool holds two) waits for the lock again as usual.
        pooled = [db.connect() for _ in range(3)]
        timeouts = {c.exec_driver_sql("PRAGMA busy_timeout").scalar_one() for c in pooled}
        for conn in pooled:
            conn.close()
        with db.connect() as conn:
            values = conn.execute(sa.select(table.c.v).order_by(table.c.id)).scalars().all()
    finally:
        db.dispose()
    assert values == ["held", "free"]
    assert timeouts == {BUSY_TIMEOUT_MS}


def test_group_commit_goes_on_after_its_loop_closed_mid_batch(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'g.db'}")
    table = _table(db)
    group = GroupCommit(db)
    started, go_on = threading.Event(), threading.Event()

    def slow(conn: sa.Connection) -> None:
        started.set()
        go_on.wait(10)
        conn.execute(table.insert(), {"v": "slow"})

    async def abandon() -> None:
        task = asyncio.ensure_future(group.run(slow))
        await asyncio.to_thread(started.wait, 10)
        task.cancel()  # the loop closes while the batch is being written

    async def next_loop() -> str:
        go_on.set()
        return await asyncio.wait_for(group.run(lambda conn: "written"), 10)

    try:
        run_sync(abandon)
        assert run_sync(next_loop) == "written"
    finally:
        go_on.set()
        group.close()
    with db.connect() as conn:
        assert conn.execute(sa.select(table.c.v)).scalars().all() == ["slow"]
    db.dispose()


def test_group_commit_sends_one_statement_works_from_the_loop_on_postgresql(
    tmp_path: Path,
) -> None:
    """Works that are each one statement (a ``Plan``) are sent together in one transaction,
    from the event loop's thread; a batch whose statement fails runs again alone, in the
    commit thread, each getting its own result or error; what a committed work's row means
    (its ``result``) fails that work alone; a connection that died is replaced."""
    url, name = _database_url("postgresql", tmp_path)
    db = create_db_engine(url)
    table = _table(db)
    insert = Statement(table.insert().values(v=sa.bindparam("v")).returning(table.c.id, table.c.v))
    group = GroupCommit(db)
    worked: list[str] = []
    threads: dict[str, str] = {}  # value -> where its row came back: "loop" or a thread

    def submit(value: str):  # type: ignore[no-untyped-def]
        def work(conn: sa.Connection) -> str:
            worked.append(value)  # the statement's way, in a transaction of its own
            return insert.first(conn, {"v": value}).v

        def result(found: object) -> str:
            try:
                asyncio.get_running_loop()
                threads[value] = "loop"
            except RuntimeError:
                threads[value] = threading.current_thread().name
            if value == "refused":
                raise LookupError(value)
            return found.v if found else "none"  # type: ignore[attr-defined]

        def plan() -> Plan:
            row = {"v": value, **({"id": 1} if value == "bad" else {})}
            statement = insert if value != "bad" else Statement(table.insert().values(row))
            return Plan(statement, {"v": value}, result)

        return group.run(work, plan)

    async def batch(values: list[str]) -> list[object]:
        return await asyncio.gather(*(submit(v) for v in values), return_exceptions=True)

    def values() -> list[str]:
        with db.connect() as conn:
            return sorted(conn.execute(sa.select(table.c.v)).scalars())

    loop_thread = "loop"
    try:
        with write(db) as conn:
            conn.execute(table.insert(), {"id": 1, "v": "first"})
            conn.execute(sa.text("SELECT setval('t_id_seq', 10)"))
        assert run_sync(lambda: batch(["a", "b", "c"])) == ["a", "b", "c"]
        assert worked == []  # sent together, no work ran
        assert {threads[v] for v in "abc"} == {loop_thread}

        results = run_sync(lambda: batch(["d", "bad", "e"]))
        assert results[0] == "d" and results[2] == "e"
        assert isinstance(results[1], sa.exc.IntegrityError)  # its own error: id 1 exists
        assert threads["d"].startswith("flowyard-commit")  # the batch ran again alone

        # Committed with the others; its own result refuses it, the others stand, once.
        results = run_sync(lambda: batch(["f", "refused", "g"]))
        assert results[0] == "f" and results[2] == "g"
        assert isinstance(results[1], LookupError)
        assert values() == ["a", "b", "c", "d", "e", "f", "first", "g", "refused"]

        # The database drops every connection: the batch in flight runs again alone, the
        # next one goes from the loop again on a new connection.
        def drop_connections() -> None:
            others = (
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            killer = create_db_engine(url)
            with killer.connect() as conn:
                conn.execute(sa.text(f"SELECT pg_terminate_backend(pid) {others}"))
                for _ in range(100):  # terminating is asynchronous
                    if not conn.execute(sa.text(f"SELECT count(*) {others}")).scalar():
                        break
                    time.sleep(0.02)
            killer.dispose()
            db.dispose()  # the pool's own connections died too

        async def dropped() -> list[object]:
            before = await batch(["h"])  # the loop's connection is open
            drop_connections()
            return [*before, *await batch(["i", "j"]), *await batch(["k"])]

        assert run_sync(dropped) == ["h", "i", "j", "k"]
        assert threads["h"] == loop_thread
        assert threads["i"].startswith("flowyard-commit")
        assert threads["k"] == loop_thread
    finally:
        group.close()
    assert values() == ["a", "b", "c", "d", "e", "f", "first", "g", "h", "i", "j", "k", "refused"]
    assert worked == []  # run again alone, each went as its one statement too
    db.dispose()
    _drop_database(name)


def test_a_batch_sent_from_the_loop_never_waits_for_the_loop_on_postgresql(
    tmp_path: Path,
) -> None:
    """Code on the event loop that waits for a row lock a batch in flight holds (claiming an
    execution the batch updates, say) waits for the batch, which ends on its own: the
    server has the whole batch before it takes the lock. Sent statement by statement, the
    batch waited for the blocked loop to send the rest, for ever."""
    url, name = _database_url("postgresql", tmp_path)
    db = create_db_engine(url)
    table = _table(db)
    update = Statement(
        table.update().where(table.c.id == 1).values(v=sa.bindparam("v")).returning(table.c.v)
    )
    pause = Statement(sa.select(sa.func.pg_sleep(0.3)))
    # Larger than the socket's buffers: the batch takes several waits to send.
    large = Statement(sa.select(sa.func.length(sa.bindparam("large", type_=sa.Text))))
    group = GroupCommit(db)

    row_locked = table.select().where(table.c.id == 1).with_for_update(nowait=True)

    async def main() -> list[object]:
        def sent(statement: Statement, params: dict[str, object]):  # type: ignore[no-untyped-def]
            return group.run(lambda conn: None, lambda: Plan(statement, params, lambda r: r[0]))

        async def held() -> list[object]:
            return await asyncio.gather(
                sent(update, {"v": "batch"}), sent(large, {"large": "x" * 2**23}), sent(pause, {})
            )

        batch = asyncio.ensure_future(held())
        with db.connect() as watcher:
            for _ in range(2000):  # until the batch's UPDATE ran
                await asyncio.sleep(0.001)
                try:
                    watcher.execute(row_locked)
                except sa.exc.OperationalError:  # LockNotAvailable: the batch holds row 1
                    watcher.rollback()
                    break
                watcher.rollback()
            else:
                raise AssertionError("the batch never held its lock")
        with write(db) as conn:  # blocks the loop until the batch commits
            conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))  # a regression fails
            conn.execute(table.update().where(table.c.id == 1).values(v="loop"))
        return await batch

    try:
        with write(db) as conn:
            conn.execute(table.insert(), {"id": 1, "v": "first"})
        assert run_sync(main) == ["batch", 2**23, ""]  # pg_sleep's void
    finally:
        group.close()
    with db.connect() as conn:
        assert conn.execute(sa.select(table.c.v)).scalar() == "loop"
    db.dispose()
    _drop_database(name)


def _file_pages(path: Path) -> int:
    return path.stat().st_size // 4096


def test_checkpointer_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    db = create_db_engine(f"sqlite:///{path}", background_checkpoint=True)
    table = _table(db)
    with write(db) as conn:
        conn.execute(table.insert(), [{"v": "x" * 2000} for _ in range(1000)])
    # Far below the connections' backstop: without the thread the data stays in the log.
    assert _file_pages(path) < 20
    assert Checkpointer.applies(db)
    checkpointer = Checkpointer(db, interval=0.05)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 30
        while _file_pages(path) < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    assert _file_pages(path) >= 400
    assert not checkpointer._thread.is_alive()
    db.dispose()


def test_checkpointer_applies_to_sqlite_files_only() -> None:
    memory = sa.create_engine("sqlite://")
    assert not Checkpointer.applies(memory)
    assert not Checkpointer.applies(sa.create_engine("postgresql+psycopg://x@127.0.0.1/y"))


def test_settling_the_heap_freezes_what_exists_once() -> None:
    if heap._settled:  # an app started in this process already did it
        assert gc.get_freeze_count() > 0
    else:
        heap.settle()
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == heap.FIRST_GENERATION
    frozen = gc.get_freeze_count()
    heap.settle()
    assert gc.get_freeze_count() == frozen
