"""A real PostgreSQL for the store contract suite, started on loopback for the test session.

Resolution order for the ``pg_url`` fixture:

1. ``TRAINER_TEST_PG_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``):
   use that server; the role needs ``CREATEDB`` (one database per test), else every test
   drops all tables of that database instead.
2. Debian's server binaries (``/usr/lib/postgresql/*/bin/initdb``, installed by
   ``apt-get install -y postgresql``): ``initdb`` a throw-away cluster in a temp dir and run
   ``postgres`` on 127.0.0.1, a free port, with its unix socket in the same dir. As root it
   runs as the ``postgres`` OS user (PostgreSQL refuses to run as root); the process is
   stopped and the dir removed at the end of the session.
3. Otherwise the PostgreSQL tests are skipped, **unless** ``TRAINER_REQUIRE_PG=1`` (CI),
   in which case they fail: a silently skipped backend is how a broken backend ships.

Durability is switched off (``fsync=off`` …) because the cluster is thrown away.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

PG_URL_ENV = "TRAINER_TEST_PG_URL"
REQUIRE_PG_ENV = "TRAINER_REQUIRE_PG"
_STARTUP_TIMEOUT_S = 60.0


def _unavailable(reason: str) -> None:
    """Skip, or fail when CI demands PostgreSQL."""
    if os.environ.get(REQUIRE_PG_ENV, "") not in ("", "0"):
        pytest.fail(f"PostgreSQL is required ({REQUIRE_PG_ENV}=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason} (set {PG_URL_ENV} or apt-get install postgresql)")


def _find_bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _libpq_url(sqlalchemy_url: str, database: str | None = None) -> str:
    """psycopg wants ``postgresql://``; SQLAlchemy wants ``postgresql+psycopg://``."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _wait_until_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with psycopg.connect(_libpq_url(url), connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"postgres did not accept connections within {_STARTUP_TIMEOUT_S} s: {last}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Admin URL (SQLAlchemy form) of a running PostgreSQL; see the module docstring."""
    external = os.environ.get(PG_URL_ENV)
    if external:
        yield external
        return
    with run_postgres() as url:
        yield url


@contextmanager
def run_postgres(listen: Sequence[str] = ("127.0.0.1",), trust_cidrs: Sequence[str] = ()) -> Iterator[str]:
    """A throw-away Debian PostgreSQL on ``listen`` (127.0.0.1 first); yields its admin URL on the first.

    ``trust_cidrs`` are networks allowed in without a password besides loopback (the network
    namespaces of tests/test_two_machines.py). Skips, or fails under TRAINER_REQUIRE_PG, when
    the server cannot be started.
    """
    bindir = _find_bindir()
    if bindir is None:
        _unavailable("no server binaries (/usr/lib/postgresql/*/bin/initdb)")
    assert bindir is not None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed")

    # Same effect as `runuser -u postgres --` when root, but signals reach postgres directly.
    run_user: int | None = None
    run_group: int | None = None
    extra_groups: list[int] | None = None
    workdir = Path(tempfile.mkdtemp(prefix="trainer-pg-"))
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(workdir, ignore_errors=True)
            _unavailable("running as root and there is no 'postgres' OS user to run the server as")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
        run_user, run_group, extra_groups = pw.pw_uid, pw.pw_gid, []
    datadir = workdir / "data"
    log = workdir / "postgres.log"
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    init = subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        user=run_user,
        group=run_group,
        extra_groups=extra_groups,
    )
    if init.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
    if trust_cidrs:
        with open(datadir / "pg_hba.conf", "a", encoding="utf-8") as hba:
            hba.writelines(f"host all all {cidr} trust\n" for cidr in trust_cidrs)
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    if run_user is not None and run_group is not None:
        os.fchown(log_fd, run_user, run_group)
    proc = subprocess.Popen(
        [
            str(bindir / "postgres"),
            "-D",
            str(datadir),
            "-h",
            ",".join(listen),
            "-p",
            str(port),
            "-k",
            str(workdir),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ],
        cwd=workdir,
        env=env,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
        user=run_user,
        group=run_group,
        extra_groups=extra_groups,
    )
    os.close(log_fd)
    url = f"postgresql+psycopg://postgres@{listen[0]}:{port}/postgres"
    try:
        try:
            _wait_until_ready(url, proc, log)
        except RuntimeError as exc:
            _unavailable(str(exc))
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(2)  # SIGINT = PostgreSQL "fast" shutdown
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def pg_database_url(pg_url: str) -> Iterator[str]:
    """A fresh, empty database for one test (SQLAlchemy URL); dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"trainer_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_libpq_url(pg_url), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege:
        # No CREATEDB: fall back to emptying the configured database before the test.
        _drop_all_tables(pg_url)
        yield pg_url
        return
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq_url(pg_url), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _drop_all_tables(url: str) -> None:
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    try:
        md = MetaData()
        md.reflect(engine)
        md.drop_all(engine)
    finally:
        engine.dispose()


__all__ = ["pg_database_url", "pg_url", "run_postgres"]
