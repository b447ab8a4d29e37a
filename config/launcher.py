"""One launcher owns the embedded servers and the processes that use them.

    python -m config.launcher serve          # migrate, load agents, seed demo, web + worker + beat
    python -m config.launcher dev            # the same with Django's autoreloading development server
    python -m config.launcher exec -- CMD    # run CMD with the services up (make test)

It starts embedded Postgres/Redis only where DATABASE_URL / REDIS_URL are unset, hands
the URLs to its children (so they never start servers of their own), and on Ctrl-C or
SIGTERM stops the children first and the servers last, leaving no process behind.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from config.embedded import (
    BASE_DIR,
    EmbeddedServiceError,
    EmbeddedServices,
    data_dir,
    die_with_parent,
)

PYTHON = sys.executable


class AlreadyRunning(RuntimeError):
    pass


class Launcher:
    def __init__(self):
        self.root = data_dir()
        self.services = EmbeddedServices(self.root)
        self.children: list[subprocess.Popen] = []
        self._lock_file = None

    # --- ownership ---------------------------------------------------------------
    def acquire(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / "launcher.pid"
        self._lock_file = open(lock_path, "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            pid = self._lock_file.read().strip() or "?"
            raise AlreadyRunning(
                f"Ask Panel is already running with the data in {self.root} (launcher pid {pid}). "
                f"Stop it first (Ctrl-C in its terminal, or `kill {pid}`), or set ASKPANEL_DATA_DIR "
                "to run a second instance with other data."
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()

    def start_services(self) -> dict[str, str]:
        urls = self.services.start()
        for name, url in urls.items():
            print(f"[launcher] embedded {name.split('_')[0].lower()}: {url}", flush=True)
        return urls

    def shutdown(self) -> None:
        # Nothing interrupts a shutdown: a second Ctrl-C or SIGTERM (make forwards the one it
        # got, a supervisor may repeat it) would otherwise abort it and orphan the children.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in self.children:
            if child.poll() is None:
                try:
                    os.killpg(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.children.clear()
        self.services.stop()

    # --- children ------------------------------------------------------------------
    def spawn(self, command: list[str], env: dict | None = None) -> subprocess.Popen:
        # Own process group: Ctrl-C reaches the launcher, which stops children in order; and
        # each child is told to stop if the launcher dies without doing so (killed).
        child = subprocess.Popen(command, cwd=BASE_DIR, env=env or os.environ.copy(), start_new_session=True,
                                 preexec_fn=die_with_parent)
        self.children.append(child)
        return child

    def run(self, command: list[str]) -> int:
        child = self.spawn(command)
        code = child.wait()
        self.children.remove(child)
        return code

    def manage(self, *args: str) -> None:
        code = self.run([PYTHON, "manage.py", *args])
        if code != 0:
            raise SystemExit(f"[launcher] `manage.py {' '.join(args)}` failed (exit {code}).")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


DEFAULT_SETUP_COMMANDS = "load_agents load_prices seed_demo load_schedule"


def web_server_command(port: int, *, dev: bool = False) -> list[str]:
    """uvicorn serving config.asgi with WEB_WORKERS processes (static files by WhiteNoise,
    event streams without a thread each); `dev`: Django's autoreloading runserver."""
    if dev:
        return [PYTHON, "manage.py", "runserver", f"0.0.0.0:{port}"]
    workers = os.environ.get("WEB_WORKERS", "2")
    # Django speaks no ASGI lifespan; open event streams get 5 s to end on shutdown.
    return [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", str(port),
            "--workers", workers, "--lifespan", "off", "--timeout-graceful-shutdown", "5"]


def serve_commands(root: Path, port: int, *, dev: bool = False) -> dict[str, list[str]]:
    """The processes `serve` runs side by side, by name: web server, worker, and beat (the
    periodic tasks; its schedule is in the database, any file of its own in the data dir)."""
    concurrency = os.environ.get("WORKER_CONCURRENCY", "2")
    return {
        "web server": web_server_command(port, dev=dev),
        "worker": [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "INFO", "--concurrency", concurrency],
        "beat": [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "INFO",
                 "--schedule", str(root / "celerybeat-schedule")],
    }


def serve(launcher: Launcher, *, dev: bool = False) -> int:
    port = int(os.environ.get("PORT", "8000"))
    if not _port_free(port):
        raise AlreadyRunning(f"Port {port} is already in use; stop what runs there or set PORT=<another port>.")
    launcher.start_services()
    launcher.manage("migrate_schemas", "--executor", "standard")
    for step in os.environ.get("ASKPANEL_SETUP_COMMANDS", DEFAULT_SETUP_COMMANDS).split():
        launcher.manage(step)
    children = {name: launcher.spawn(command) for name, command in serve_commands(launcher.root, port, dev=dev).items()}
    print(f"[launcher] serving on port {port}; Ctrl-C stops everything.", flush=True)
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"[launcher] the {name} exited (code {child.returncode}); stopping.", flush=True)
                return child.returncode or 1
        time.sleep(0.5)


def execute(launcher: Launcher, command: list[str]) -> int:
    if not command:
        raise SystemExit("usage: python -m config.launcher exec -- COMMAND [ARGS...]")
    launcher.start_services()
    return launcher.run(command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.launcher", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("serve", help="migrate, seed, serve web + worker + beat")
    sub.add_parser("dev", help="serve, with Django's autoreloading development server")
    run_parser = sub.add_parser("exec", help="run a command with the services up")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    launcher = Launcher()
    # The first SIGTERM or SIGINT becomes a normal exit, so the finally below always runs;
    # any repeat is ignored (shutdown() also ignores them while it works).
    stopping = []

    def stop(signum, frame):
        if stopping:
            return
        stopping.append(signum)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        launcher.acquire()
        if args.action in ("serve", "dev"):
            return serve(launcher, dev=args.action == "dev")
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return execute(launcher, command)
    except (AlreadyRunning, EmbeddedServiceError) as exc:
        print(f"[launcher] {exc}", file=sys.stderr, flush=True)
        return 2
    except SystemExit as exit_:
        if not stopping:  # a failed step says why (manage())
            raise
        print("\n[launcher] stopping…", flush=True)
        return exit_.code
    finally:
        launcher.shutdown()


if __name__ == "__main__":
    sys.exit(main())
