"""Panels against a local OpenAI-compatible endpoint that answers after a fixed latency.

    python bench/panels.py [--latency 0.2] [--panels 100] [--workers 2]

1. Wall time of a 5-expert open panel (experts called at once) over rounds x latency
   (goal <= 1.3), and of a structured panel (experts in turn, by design) for contrast.
   Every panel also makes one synthesis call after its rounds; both ratios are printed.
2. `--panels` open panels submitted at once to `--workers` worker processes: completed,
   failed, lost (goal 0 lost), throughput and p95 panel time.
Prints figures; asserts nothing. Uses its own data directory (.data/bench).
"""

import argparse
import os
import signal
import subprocess
import sys
import time

import _django

QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"


def start_workers(count: int, env: dict) -> list[subprocess.Popen]:
    workers = []
    for index in range(count):
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", env["CELERY_QUEUE"], "-c", "1",
             "-n", f"bench{index}@%h", "-l", "WARNING", "--without-gossip", "--without-mingle"],
            cwd=_django.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ))
    from config.celery import app

    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5) or []) < count and time.monotonic() < deadline:
        time.sleep(0.5)
    return workers


def stop_workers(workers) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--panels", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _django.setup()

    from django.conf import settings
    from django_tenants.utils import schema_context

    from agents.services import agents_load
    from panels.models import Panel
    from panels.orchestration.runner import panel_run
    from panels.services import panel_create
    from tenants.services import tenant_update_configuration
    from tests.fakes.llm_server import FakeLLMServer

    agents_load()
    tenant, user, _ = _django.bench_tenant("bench_panels", tier="enterprise", is_admin=True)
    tenant_update_configuration(tenant=tenant, limits={"max_concurrent_panels": 1000, "max_panels_per_month": 1_000_000})

    with FakeLLMServer(latency_s=args.latency) as llm:
        settings.LLM_PROVIDER, settings.LLM_MODEL = "openai", "gpt-4o-mini"
        settings.LLM_BASE_URL, settings.LLM_API_KEY = llm.openai_base_url, "bench"
        print(f"fake endpoint latency:                     {args.latency * 1000:.0f} ms per answer")
        with schema_context("bench_panels"):
            Panel.objects.all().delete()
            for panel_type, experts in (("open", 5), ("structured", 5)):
                walls = []
                for _ in range(args.repeat):
                    panel = panel_create(user=user, query=QUESTION, panel_type=panel_type, enqueue=False)
                    started = time.perf_counter()
                    panel = panel_run(panel_id=panel.pk)
                    walls.append(time.perf_counter() - started)
                    assert panel.status == "COMPLETED", panel.error
                rounds = panel.max_rounds
                wall = _django.median(walls)
                print(f"{panel_type:<10} {experts} experts, {rounds} rounds: wall {wall:.2f} s; "
                      f"/ (rounds x latency) = {wall / (rounds * args.latency):.2f}; "
                      f"/ ((rounds + synthesis) x latency) = {wall / ((rounds + 1) * args.latency):.2f}")

        if args.panels <= 0:
            return
        env = {**os.environ, "LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o-mini", "LLM_BASE_URL": llm.openai_base_url,
               "LLM_API_KEY": "bench", "CELERY_QUEUE": f"bench-{os.getpid()}", "LOG_LEVEL": "WARNING"}
        from config.celery import app

        app.conf.task_default_queue = env["CELERY_QUEUE"]
        workers = start_workers(args.workers, env)
        try:
            with schema_context("bench_panels"):
                submitted_at = time.perf_counter()
                ids = [panel_create(user=user, query=QUESTION, panel_type="open").pk for _ in range(args.panels)]
                submit_seconds = time.perf_counter() - submitted_at
                deadline = time.monotonic() + max(600, args.panels * 20)
                while time.monotonic() < deadline:
                    open_count = Panel.objects.filter(pk__in=ids).exclude(
                        status__in=["COMPLETED", "FAILED", "CANCELLED"]).count()
                    if open_count == 0:
                        break
                    time.sleep(1)
                elapsed = time.perf_counter() - submitted_at
                panels = list(Panel.objects.filter(pk__in=ids))
        finally:
            stop_workers(workers)
    completed = [p for p in panels if p.status == "COMPLETED"]
    failed = [p for p in panels if p.status == "FAILED"]
    lost = [p for p in panels if p.status not in ("COMPLETED", "FAILED", "CANCELLED")]
    durations = [(p.finished_at - p.created_at).total_seconds() for p in completed]
    print(f"{args.panels} open panels at once on {args.workers} worker processes (submitted in {submit_seconds:.1f} s):")
    print(f"  completed {len(completed)}, failed {len(failed)}, lost {len(lost)}")
    if failed:
        print(f"  first failure: {failed[0].error}")
    print(f"  throughput {len(completed) / elapsed * 60:.1f} panels/min; all done in {elapsed:.1f} s")
    if durations:
        print(f"  panel time (created -> finished): median {_django.median(durations):.1f} s, "
              f"p95 {_django.percentile(durations, 0.95):.1f} s")


if __name__ == "__main__":
    main()
