"""The launcher owns the embedded servers: it starts them, hands their URLs to its
children, and leaves no server behind, on a normal exit and on SIGTERM."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

REPORT_PIDS = (
    "import os, pathlib, psycopg, redis;"
    "root = pathlib.Path(os.environ['ASKPANEL_DATA_DIR']);"
    "psycopg.connect(os.environ['DATABASE_URL']).execute('select 1');"
    "redis.Redis.from_url(os.environ['REDIS_URL']).ping();"
    "pg = (root / 'pg' / 'postmaster.pid').read_text().split()[0];"
    "rd = (root / 'redis' / 'redis.pid').read_text().strip();"
    "print('PIDS', pg, rd, flush=True);"
)


def _launcher_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "XDG_RUNTIME_DIR")}
    env["ASKPANEL_DATA_DIR"] = str(data_dir)
    return env


def _launch(data_dir: Path, code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "config.launcher", "exec", "--", sys.executable, "-c", code],
        cwd=BASE_DIR, env=_launcher_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _server_pids(line: str) -> list[int]:
    return [int(pid) for pid in line.split()[1:]]


def _wait_gone(pids, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
        if not alive:
            return []
        time.sleep(0.2)
    return alive


@pytest.fixture
def data_dir():
    # Short path: the Postgres socket lives inside it.
    with tempfile.TemporaryDirectory(prefix="ap-", dir="/tmp") as path:
        yield Path(path)


def test_exec_runs_the_command_with_urls_and_stops_both_servers(data_dir):
    launcher = _launch(data_dir, REPORT_PIDS)
    out, err = launcher.communicate(timeout=120)
    assert launcher.returncode == 0, err
    pids_line = next(line for line in out.splitlines() if line.startswith("PIDS"))
    pids = _server_pids(pids_line)
    assert len(pids) == 2
    assert _wait_gone(pids) == []


def test_sigterm_stops_the_child_and_both_servers(data_dir):
    launcher = _launch(data_dir, REPORT_PIDS + "import time; time.sleep(120)")
    pids_line = launcher.stdout.readline()
    while not pids_line.startswith("PIDS"):
        pids_line = launcher.stdout.readline()
        assert pids_line, launcher.stderr.read()
    pids = _server_pids(pids_line)
    children = [p.pid for p in psutil.Process(launcher.pid).children(recursive=True)]
    launcher.send_signal(signal.SIGTERM)
    launcher.wait(60)
    assert _wait_gone(pids + [c for c in children if c not in pids]) == []


def test_a_second_launcher_on_the_same_data_says_one_is_running(data_dir):
    first = _launch(data_dir, REPORT_PIDS + "import time; time.sleep(120)")
    line = first.stdout.readline()
    while not line.startswith("PIDS"):
        line = first.stdout.readline()
        assert line, first.stderr.read()
    try:
        second = _launch(data_dir, "print('should not run')")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert "already running" in err and str(first.pid) in err
        assert "should not run" not in out
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(60)
    assert _wait_gone(_server_pids(line)) == []


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _of_run(data_dir: Path, root: psutil.Process) -> list[int]:
    """Every process of a `make run`: make's descendants (web, worker, beat, Redis) and the
    Postgres started for the data directory (pg_ctl detaches it)."""
    found = {p.pid for p in root.children(recursive=True)}
    for process in psutil.process_iter(["pid", "cmdline"]):
        if str(data_dir) in " ".join(process.info["cmdline"] or []):
            found.add(process.info["pid"])
    return sorted(found - {os.getpid()})


def test_make_run_stopped_by_sigterm_twice_leaves_nothing(data_dir):
    """A supervisor or CI runner sends SIGTERM to `make run`'s process group, and make
    forwards it, so the launcher gets it twice: shutdown must still finish."""
    port = _free_port()
    env = {**_launcher_env(data_dir), "PORT": str(port), "ASKPANEL_SETUP_COMMANDS": "", "WORKER_CONCURRENCY": "1"}
    make = subprocess.Popen(["make", "run"], cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not _port_open(port):
            assert make.poll() is None, "make run exited before serving"
            assert time.monotonic() < deadline, "make run did not serve within 240 s"
            time.sleep(0.5)
        names = " ".join(" ".join(psutil.Process(pid).cmdline()) for pid in _of_run(data_dir, psutil.Process(make.pid))
                         if psutil.pid_exists(pid))
        assert "uvicorn" in names and "worker" in names and "beat" in names and "redis-server" in names
        processes = _of_run(data_dir, psutil.Process(make.pid))
        os.killpg(make.pid, signal.SIGTERM)
        time.sleep(0.1)
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(60)
        assert _wait_gone(processes, timeout=30) == []
        assert not _port_open(port)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
