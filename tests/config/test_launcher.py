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
