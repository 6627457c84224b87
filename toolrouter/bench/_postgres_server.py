"""A throwaway PostgreSQL server on 127.0.0.1, for the test suite and ``toolrouter bench store``.

It runs the server binaries found on this machine (``initdb``, ``pg_ctl``, ``postgres``: Debian's
``postgresql`` package puts them under ``/usr/lib/postgresql/<version>/bin``) in a fresh temporary
folder, on a free port, with password authentication over TCP. PostgreSQL refuses to run as root,
so under root the folder is handed to the ``postgres`` system user and the binaries run as that user
(``runuser``). ``stop()`` removes the folder again.

Example:
    >>> server = LocalPostgres()               # doctest: +SKIP
    >>> server.start()                         # doctest: +SKIP
    >>> url = server.create_database("router") # doctest: +SKIP
    >>> server.stop()                          # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["LocalPostgres", "PostgresBinariesMissing", "find_binaries"]

_BINARIES = ("initdb", "pg_ctl", "postgres")
_USER = "router"


class PostgresBinariesMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed on this machine."""


def find_binaries() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: ``PATH`` first, then Debian's
    ``/usr/lib/postgresql/<version>/bin`` (newest version first)."""
    found = shutil.which("pg_ctl")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if all((folder / name).exists() for name in _BINARIES):
            return folder
    raise PostgresBinariesMissing(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH nor under "
        "/usr/lib/postgresql/*/bin; on Debian or Ubuntu: apt-get install postgresql"
    )


#: How many ports a first start tries (see ``LocalPostgres.start``).
_PORT_TRIES = 5


def _free_port() -> int:
    """A port free now, at random below the range the system takes the ports of outgoing
    connections from: a port the system handed out (``bind`` to port 0) could go to any client's
    connection while the server was not bound to it (before its first start, during a restart),
    and the start failed, "Address already in use"."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):  # not Linux: below Linux's default, and IANA's
        low = 32768
    for _ in range(100):
        port = 1024 + secrets.randbelow(max(1, low - 1024))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # in use
                continue
            return port
    with socket.socket() as s:  # none found there: one the system hands out
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """One PostgreSQL server in a temporary folder, reachable at ``127.0.0.1:port``.

    ``fsync=False`` (``initdb`` and the server) trades durability across a power cut for speed (the
    test suite); a crash of the server process alone (``stop(mode="immediate")``) loses nothing
    either way. ``settings`` are extra ``postgres -c`` options; ``parent`` is the folder for the
    temporary one (default: the system's temporary folder).
    """

    def __init__(self, *, fsync: bool = True, settings: dict[str, str] | None = None, parent: str | None = None) -> None:
        self.bin = find_binaries()
        self.fsync = fsync
        self.parent = parent
        self.settings = dict(settings or {})
        self.password = secrets.token_hex(12)
        self.port = 0
        self.root: Path | None = None
        self._run_as: list[str] = []

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "LocalPostgres":
        """Create the cluster (first call) and start the server; returns ``self``. The first start
        takes another free port if the one found was taken meanwhile (``_PORT_TRIES`` in all)."""
        # a restart keeps its port, which the URLs given out name
        tries = 1 if self.root else _PORT_TRIES
        if self.root is None:
            self._init()
        while True:
            logged = len(self.log)
            try:
                self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.root / "server.log"), "-o", self._options())
                return self
            except RuntimeError:
                # a free port is free only when found: another process (another test run's server)
                # may bind it before this one does
                tries -= 1
                if not tries or "Address already in use" not in self.log[logged:]:
                    raise
                self.port = _free_port()

    def stop(self, mode: str = "fast", *, remove: bool = True) -> None:
        """Stop the server (``mode``: ``fast`` or ``immediate``, a crash of the server process) and,
        with ``remove``, delete its folder (then at once: no checkpoint for files about to go)."""
        if self.root is None:
            return
        if (self.root / "data" / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-t", "60", "-m", "immediate" if remove else mode, check=False)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def restart(self, down_s: float = 0.0, mode: str = "fast") -> None:
        """Stop the server, wait ``down_s`` seconds, start it again on the same port."""
        self.stop(mode, remove=False)
        time.sleep(down_s)
        self.start()

    def __enter__(self) -> "LocalPostgres":
        try:
            return self.start()
        except BaseException:  # initdb or the start failed or was cut short: no folder, no server left
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- databases ---------------------------------------------------------------------------------
    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """``postgresql://`` URL of ``database`` on this server."""
        return f"postgresql://{_USER}:{self.password if password is None else password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database (a lowercase identifier) and return its URL."""
        if not name.replace("_", "").isalnum() or name.lower() != name:
            raise ValueError(f"name: expected a lowercase identifier, got {name!r}")
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing the connections still open to it."""
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the server's superuser (outside a transaction)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    @property
    def log(self) -> str:
        """The server's log so far (for failure messages)."""
        path = self.root / "server.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    # --- internals ---------------------------------------------------------------------------------
    def _init(self) -> None:
        root = Path(tempfile.mkdtemp(prefix="toolrouter-pg-", dir=self.parent))
        if os.geteuid() == 0:  # initdb and postgres refuse root: run them as the postgres user
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(root)
                raise PostgresBinariesMissing("running as root needs a 'postgres' system user to run the server") from None
            os.chown(root, owner.pw_uid, owner.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
        self.root = root
        pwfile = root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._run_as:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(
            str(self.bin / "initdb"), "-D", str(root / "data"), "-U", _USER, f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-instructions",
            *(() if self.fsync else ("--no-sync",)),  # the server will not sync either: seconds saved
        )
        pwfile.unlink()
        self.port = _free_port()

    def _options(self) -> str:
        assert self.root is not None
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            "fsync": "on" if self.fsync else "off",
            "max_connections": "200",
            **self.settings,
        }
        return " ".join(f"-c {k}={v}" for k, v in settings.items())

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        assert self.root is not None
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), *args, check=check)

    def _run(self, *cmd: str, check: bool = True) -> None:
        proc = subprocess.run([*self._run_as, *cmd], capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stderr.strip()}\n{self.log[-2000:]}")
