"""Expert ranking: recommend latency over the real catalog and over a synthetic
10,000-agent catalog, and precision@5 on the labelled questions.

    python bench/agents.py [--synthetic 10000] [--repeat 3]

Goals (issue 12): recommend endpoint p95 <= 25 ms (real catalog), <= 100 ms (10,000
agents); precision@5 not lower than 0.410. Prints figures; asserts nothing. Uses its own
data directory (.data/bench, or ASKPANEL_DATA_DIR).
"""

import argparse
import os
import time

os.environ.setdefault("DB_CONN_MAX_AGE", "60")  # persistent connections, as in production
import _django  # noqa: E402


def timed(fn, questions, repeat):
    timings = []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            fn(question)
            timings.append(time.perf_counter() - started)
    return timings


def report(label, timings):
    print(f"{label:<44} median {_django.median(timings) * 1000:6.1f} ms   p95 {_django.percentile(timings, .95) * 1000:6.1f} ms"
          f"   ({len(timings)} calls)")


def add_synthetic_agents(count: int) -> None:
    """Copies of the real agents with new slugs and nearby embeddings (unit length)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agents_agent WHERE slug LIKE 'synthetic-%%'")
        cursor.execute("SELECT count(*) FROM agents_agent WHERE is_active")
        real = cursor.fetchone()[0]
        rounds = max(1, -(-count // real))
        cursor.execute(
            """
            INSERT INTO agents_agent (slug, name, title, domain, business_function, tier, disposition, capabilities,
                knowledge_domains, key_considerations, system_prompt, compatible_agents, incompatible_agents,
                cost_per_query, is_active, profile_hash, search_vector, embedding, created_at, updated_at)
            SELECT 'synthetic-' || n || '-' || slug, name || ' ' || n, title, domain, business_function, tier,
                disposition, capabilities, knowledge_domains, key_considerations, system_prompt, '[]', '[]',
                cost_per_query, true, '', search_vector,
                l2_normalize((embedding::real[] || ARRAY[]::real[])::vector
                    + (SELECT array_agg((random() - 0.5) * 0.08)::vector FROM generate_series(1, 384))),
                now(), now()
            FROM agents_agent, generate_series(1, %s) AS n
            WHERE is_active AND slug NOT LIKE 'synthetic-%%'
            LIMIT %s
            """,
            [rounds, count - real],
        )


def remove_synthetic_agents() -> None:
    """Delete the synthetic agents and vacuum, so their dead index entries (10,000 rows'
    worth in the HNSW graph) do not slow the real-catalog figures of the next run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agents_agent WHERE slug LIKE 'synthetic-%%'")
        cursor.execute("VACUUM ANALYZE agents_agent")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _django.setup()

    import yaml
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from agents.catalog.loader import CATALOG_DIR
    from agents.models import Agent
    from agents.ranking import rank_agents
    from agents.services import agents_load

    remove_synthetic_agents()
    started = time.perf_counter()
    load = agents_load()
    print(f"load_agents:                                  {time.perf_counter() - started:.1f} s ({load.summary()})")
    _, _, token = _django.bench_tenant("bench_agents")

    labelled = yaml.safe_load((CATALOG_DIR.parent / "evaluation" / "ranking_questions.yaml").read_text())["questions"]
    questions = [q["question"] for q in labelled]
    with schema_context("bench_agents"):
        rank_agents(question="warm up", k=5)
        hits = [len({r.agent.slug for r in rank_agents(question=q["question"], k=5)} & set(q["expected"])) / 5
                for q in labelled]
        ceiling = sum(min(len(q["expected"]), 5) / 5 for q in labelled) / len(labelled)
        print(f"precision@5 on {len(labelled)} labelled questions:       {sum(hits) / len(hits):.3f}"
              f"  (ceiling {ceiling:.2f}: some questions list fewer than 5 experts)")
        real_count = Agent.objects.filter(is_active=True).count()
        report(f"rank_agents, real catalog ({real_count} agents)", timed(lambda q: rank_agents(question=q, k=5), questions, args.repeat))

    client = Client(HTTP_HOST="bench-agents.localhost", HTTP_AUTHORIZATION=f"Token {token}")
    report("GET /api/v1/agents/recommend/, real catalog",
           timed(lambda q: client.get("/api/v1/agents/recommend/", {"q": q, "k": 5}), questions, args.repeat))

    if args.synthetic <= real_count:
        print(f"synthetic catalog: skipped (--synthetic {args.synthetic} is not above the real {real_count} agents)")
        return
    add_synthetic_agents(args.synthetic)
    total = Agent.objects.filter(is_active=True).count()
    with schema_context("bench_agents"):
        rank_agents(question="warm up", k=5)
        report(f"rank_agents, synthetic catalog ({total} agents)",
               timed(lambda q: rank_agents(question=q, k=5), questions, args.repeat))
    report(f"GET recommend, synthetic catalog ({total})",
           timed(lambda q: client.get("/api/v1/agents/recommend/", {"q": q, "k": 5}), questions, 1))
    remove_synthetic_agents()


if __name__ == "__main__":
    main()
