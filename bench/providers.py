"""Provider throughput: offline expert answers per second, and the local embedder's
sentences per second at batch 32 with its peak memory.

    python bench/providers.py [--answers 500] [--sentences 2000]

Prints figures; asserts nothing. Needs no database.
"""

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

WORDS = ("regulatory submission clinical trial endpoint efficacy safety signal biosimilar tender payer "
         "budget impact reimbursement device software validation predicate evidence cohort randomised "
         "label indication manufacturing batch deviation dossier pricing launch oncology cardiology").split()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()

    import django

    django.setup()
    from llm.providers import llm_client
    from llm.embeddings import get_embedder
    from panels.orchestration.experts import ExpertBrief, ExpertTask, PeerView, Source, ask_expert
    from llm.offline import OfflineProvider

    rng = random.Random(7)
    client = llm_client(provider=OfflineProvider())
    expert = ExpertBrief(slug="b", name="Bench Expert", title="Regulatory Strategy Lead", domain="regulatory_affairs",
                         system_prompt="You are a regulatory lead.",
                         key_considerations=tuple(sentence(rng, 14) for _ in range(6)))
    tasks = [
        ExpertTask(question=sentence(rng, 20) + "?", expert=expert, round_number=2,
                   sources=tuple(Source(f"c{i}-{j}", "Doc", " ".join(sentence(rng, 18) for _ in range(6)))
                                 for j in range(6)),
                   peers=tuple(PeerView(f"Peer {k}", "support", sentence(rng, 12)) for k in range(4)))
        for i in range(args.answers)
    ]
    started = time.perf_counter()
    for task in tasks:
        ask_expert(client, task)
    elapsed = time.perf_counter() - started
    print(f"offline answers per second:        {args.answers / elapsed:.0f}  "
          f"({args.answers} answers, 6 sources and 4 peers each)")

    embedder = get_embedder()
    load_started = time.perf_counter()
    embedder.embed(["warm up"])
    load_seconds = time.perf_counter() - load_started
    for words, label in ((40, "40-word sentences"), (200, "200-word passages")):
        texts = [sentence(rng, words) for _ in range(args.sentences if words == 40 else args.sentences // 4)]
        started = time.perf_counter()
        embedder.embed(texts)
        elapsed = time.perf_counter() - started
        print(f"local embeddings, batch 32, {label}: {len(texts) / elapsed:.0f} per second")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"embedder model load + first call:  {load_seconds:.2f} s")
    print(f"peak memory of this process:       {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
