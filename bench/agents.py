"""Expert ranking: quality on the held-out split of the labelled questions, with and
without a heavy usage history, and recommend latency over the real catalog and over a
synthetic 10,000-agent catalog.

    python bench/agents.py [--fit] [--synthetic 10000] [--repeat 3]

Goals (issue 15), on the test split: precision@5 >= 0.60, hubness <= 10% (the largest
share of test questions in which one expert is in the top 5); with one tenant that used
and rated five experts 50 times each, precision@5 drops by no more than 0.02 and hubness
stays <= 10%. Latency (issue 12): recommend p95 <= 25 ms (real catalog), <= 100 ms
(10,000 agents). --fit searches the ranking weights on the train split only and prints the
best; agents/ranking.py holds the chosen ones. Prints figures; asserts nothing. Uses its
own data directory (.data/bench, or ASKPANEL_DATA_DIR).
"""

import argparse
import itertools
import os
import time
from collections import Counter
from dataclasses import replace

os.environ.setdefault("DB_CONN_MAX_AGE", "60")  # persistent connections, as in production
import _django  # noqa: E402

HEAVY_USES = 50


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


def quality(rankings: list[list[str]], questions: list[dict]) -> dict:
    from agents.evaluation import hubness, ndcg_at_5, precision_at_5

    share, hub = hubness(rankings)
    return {
        "precision": sum(precision_at_5(r, q["expected"]) for r, q in zip(rankings, questions)) / len(questions),
        "ndcg": sum(ndcg_at_5(r, q["expected"]) for r, q in zip(rankings, questions)) / len(questions),
        "hubness": share, "hub": hub,
    }


def print_quality(label: str, figures: dict) -> None:
    print(f"{label:<44} precision@5 {figures['precision']:.3f}   nDCG@5 {figures['ndcg']:.3f}   "
          f"hubness {figures['hubness']:.1%} ({figures['hub']})")


def ranked_slugs(schema: str, questions: list[dict]) -> list[list[str]]:
    """The top 5 by the real path (rank_agents: embedding, steering, catalog) as a tenant gets them."""
    from django_tenants.utils import schema_context

    from agents.ranking import rank_agents

    with schema_context(schema):
        return [[r.agent.slug for r in rank_agents(question=q["question"], k=5)] for q in questions]


def heavy_usage(schema: str, slugs: list[str]) -> None:
    """The tenant used and rated each of these experts HEAVY_USES times (5/5)."""
    from django_tenants.utils import schema_context

    from agents.models import Agent
    from agents.tenant.models import AgentUsage

    with schema_context(schema):
        AgentUsage.objects.all().delete()
        AgentUsage.objects.bulk_create(AgentUsage(agent=agent, use_count=HEAVY_USES, rating_count=HEAVY_USES,
                                                  avg_rating=5.0)
                                       for agent in Agent.objects.filter(slug__in=slugs))


def fit(train: list[dict]) -> None:
    """Search the weights on the train split: the best precision@5 among settings whose
    hubness is at most 10%, then the diversity margin and the floor (with heavy usage)."""
    from agents.ranking import WEIGHTS, catalog_matrix, question_lexemes, rank_rows
    from agents.tenant.selectors import Steering, Usage
    from llm.embeddings import get_embedder

    catalog = catalog_matrix()
    vectors = get_embedder().embed([q["question"] for q in train])
    lexemes = [question_lexemes(q["question"]) for q in train]
    plain = Steering(preferred=frozenset(), disabled=frozenset(), usage={})

    def run(weights, steering=plain):
        rankings = [[c.slug for c in rank_rows(catalog=catalog, vector=v, lexemes=w, steering=steering, k=5,
                                               minimum=5, weights=weights)]
                    for v, w in zip(vectors, lexemes)]
        return quality(rankings, train)

    started = time.perf_counter()
    results = []
    steps = [i / 10 for i in range(11)]
    for profile, example in itertools.product(steps, steps):
        words = round(1 - profile - example, 2)
        if words < 0:
            continue
        for hub in (0.0, 0.5, 1.0, 1.5, 2.0):
            weights = replace(WEIGHTS, profile=profile, example=example, words=words, hub=hub)
            results.append((run(weights), weights))
    allowed = [r for r in results if r[0]["hubness"] <= 0.10] or results
    allowed.sort(key=lambda r: (-r[0]["precision"], -r[0]["ndcg"]))
    print(f"fit: {len(results)} fusion settings on {len(train)} train questions in {time.perf_counter() - started:.0f} s;"
          " the best five:")
    for figures, weights in allowed[:5]:
        print_quality(f"  profile {weights.profile:.1f} example {weights.example:.1f} words {weights.words:.1f} "
                      f"hub {weights.hub:.1f}", figures)
    best = allowed[0][1]
    baseline = run(best)
    top = [slug for slug, _ in Counter(
        s for v, w in zip(vectors, lexemes)
        for s in [c.slug for c in rank_rows(catalog=catalog, vector=v, lexemes=w, steering=plain, k=5, minimum=5,
                                            weights=best)]).most_common(5)]
    heavy = Steering(preferred=frozenset(), disabled=frozenset(),
                     usage={slug: Usage(HEAVY_USES, 5.0) for slug in top})
    print(f"then the margin and the boost floor (heavy usage of {', '.join(top)}):")
    for margin, floor in itertools.product((0.8, 0.85, 0.9, 0.95, 1.0), (0.5, 0.6, 0.7, 0.8, 0.9)):
        weights = replace(best, boost_floor=floor, diversity_margin=margin)
        plain_figures, heavy_figures = run(weights), run(weights, heavy)
        print(f"  margin {margin:.2f} boost floor {floor:.1f}: precision@5 {plain_figures['precision']:.3f}, "
              f"heavy {heavy_figures['precision']:.3f} (drop {plain_figures['precision'] - heavy_figures['precision']:+.3f}), "
              f"hubness {plain_figures['hubness']:.1%} / heavy {heavy_figures['hubness']:.1%}")
    print_quality("fit baseline (best fusion, current margin and floors)", baseline)


def add_synthetic_agents(count: int) -> None:
    """Copies of the real agents with new slugs and nearby embeddings (unit length), with
    copies of their example questions."""
    from django.db import connection

    remove_synthetic_agents()
    with connection.cursor() as cursor:
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
        cursor.execute(
            """
            INSERT INTO agents_agentexample (agent_id, text, embedding)
            SELECT copy.id, example.text, example.embedding
            FROM agents_agent copy
            JOIN agents_agent original ON copy.slug LIKE 'synthetic-%%-' || original.slug
                AND original.slug NOT LIKE 'synthetic-%%'
            JOIN agents_agentexample example ON example.agent_id = original.id
            WHERE copy.slug LIKE 'synthetic-%%'
            """
        )


def remove_synthetic_agents() -> None:
    """Delete the synthetic agents and vacuum, so their dead index entries (10,000 rows'
    worth in the HNSW graph) do not slow the real-catalog figures of the next run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agents_agentexample WHERE agent_id IN "
                       "(SELECT id FROM agents_agent WHERE slug LIKE 'synthetic-%%')")
        cursor.execute("DELETE FROM agents_agent WHERE slug LIKE 'synthetic-%%'")
        cursor.execute("VACUUM ANALYZE agents_agent")
        cursor.execute("VACUUM ANALYZE agents_agentexample")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fit", action="store_true", help="search the ranking weights on the train split")
    parser.add_argument("--synthetic", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _django.setup()


    from django.test import Client
    from django_tenants.utils import schema_context

    from agents.evaluation import questions_load
    from agents.models import Agent
    from agents.ranking import rank_agents
    from agents.services import agents_load

    remove_synthetic_agents()
    started = time.perf_counter()
    load = agents_load()
    print(f"load_agents:                                  {time.perf_counter() - started:.1f} s ({load.summary()})")
    _, _, token = _django.bench_tenant("bench_agents")
    _django.bench_tenant("bench_agents_heavy")
    train, test = questions_load("train"), questions_load("test")
    if args.fit:
        fit(train)

    print(f"labelled questions: {len(train)} train, {len(test)} test")
    with schema_context("bench_agents"):
        rank_agents(question="warm up", k=5)
    print_quality("train split", quality(ranked_slugs("bench_agents", train), train))
    baseline = ranked_slugs("bench_agents", test)
    figures = quality(baseline, test)
    print_quality("test split", figures)
    ceiling = sum(min(len(q["expected"]), 5) / 5 for q in test) / len(test)
    print(f"  (precision@5 ceiling {ceiling:.2f}: some questions list fewer than 5 experts)")
    favourites = [slug for slug, _ in Counter(s for r in baseline for s in r).most_common(5)]
    heavy_usage("bench_agents_heavy", favourites)
    heavy = quality(ranked_slugs("bench_agents_heavy", test), test)
    print(f"heavy usage: {', '.join(favourites)} (the test split's five most recommended) "
          f"used and rated 5/5 {HEAVY_USES} times each")
    print_quality("test split, heavy usage", heavy)
    print(f"  precision@5 drop {figures['precision'] - heavy['precision']:+.3f}")

    questions = [q["question"] for q in test]
    with schema_context("bench_agents"):
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
