"""A PostgreSQL cluster of a test's own: initdb in a fresh directory, a free port on
127.0.0.1, trust authentication. A test may stop, restart or break it without touching the
shared server that the rest of the suite uses. Durability settings stay at PostgreSQL's
defaults (fsync on): the tests that use it are about what survives a restart."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
#: Debian's layout, where `pg_config` may come from libpq-dev and point elsewhere.
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"
#: initdb and postgres refuse to run as root; as root they run as this operating-system user.
SERVER_USER = "postgres"


def server_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None where they are not installed."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        result = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if result.returncode == 0:
            candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob(DEBIAN_BINDIRS), key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
                         reverse=True)
    for candidate in candidates:
        if all(os.access(Path(candidate) / program, os.X_OK) for program in SERVER_PROGRAMS):
            return Path(candidate)
    return None


def why_unavailable() -> str | None:
    """Why a private cluster cannot be started here (None when it can)."""
    if server_bindir() is None:
        return "needs the PostgreSQL server programs (initdb, pg_ctl, postgres; Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root needs the '{SERVER_USER}' operating-system user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root needs runuser (util-linux) to start the server as another user"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    def __init__(self, bindir: Path, root: Path, port: int):
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = port

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        as_server_user = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*as_server_user, str(self.bindir / program), *args], capture_output=True, text=True,
                                timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed ({result.returncode}): {result.stderr or result.stdout}\n"
                               f"server log:\n{self.log_tail()}")
        return result

    def _server_options(self) -> str:
        # The socket goes in this cluster's own directory, so it never meets the shared server's.
        return (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                f"-c shared_buffers=16MB -c max_connections=40")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", self._server_options())

    def restart(self) -> None:
        """A real restart: fast shutdown (open transactions are rolled back, every connection
        is closed), the postmaster exits, and a new one starts on the same data and port."""
        self._run("pg_ctl", "restart", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60",
                  "-o", self._server_options())

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", "-t", "60")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started cluster, stopped (immediate mode) and deleted afterwards whatever happened."""
    bindir = server_bindir()
    if bindir is None:
        raise RuntimeError(why_unavailable())
    root = Path(tempfile.mkdtemp(prefix="minsheng-private-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, SERVER_USER, SERVER_USER)
    cluster = PrivateCluster(bindir, root, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
