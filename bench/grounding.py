"""How experts' retrieval is steered toward their expertise, measured.

    python bench/grounding.py [--questions 40]

For labelled questions over the demo corpus (rag/evaluation/retrieval_queries.yaml,
keyword-only ones left out: they test full-text search, not this), the panel's five
ranked experts each retrieve 4 sources, as a panel does. For each way of building an
expert's query vector it prints how often the answering passage is among an expert's
sources, how often its document is, and how much the experts' sources overlap (1.0 =
every expert sees the same passages). The full-text side always searches the question
with the expert's title and first capabilities, as panels do. Prints figures; asserts
nothing. Uses its own data directory (.data/bench).
"""

import argparse
import time

import _django

WEIGHTS = (0.3, 0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=40)
    args = parser.parse_args()
    _django.setup()

    import numpy as np
    import yaml
    from django_tenants.utils import schema_context

    from llm.embeddings import get_embedder
    from agents.ranking import rank_agents
    from agents.services import agents_load
    from panels.orchestration.runner import EXPERTISE_WEIGHT, SOURCES_PER_EXPERT
    from rag.demo import CORPUS_DIR, _title
    from rag.models import Document
    from rag.retrieval import search
    from rag.services import document_process, document_upload

    agents_load()
    tenant, user, _ = _django.bench_tenant("bench_grounding", tier="enterprise", is_admin=True)
    labelled = yaml.safe_load((CORPUS_DIR.parent / "evaluation" / "retrieval_queries.yaml").read_text())["queries"]
    questions = [q for q in labelled if q["kind"] != "keyword"][: args.questions]

    def collapsed(text: str) -> str:
        return " ".join(text.split())

    methods = ["question + title + capabilities, embedded per expert", "question alone"]
    methods += [f"question + {w} x profile embedding" for w in WEIGHTS]
    found = {m: [] for m in methods}
    same_document = {m: [] for m in methods}
    between_experts = {m: [] for m in methods}
    seconds = {m: 0.0 for m in methods}
    with schema_context("bench_grounding"):
        if not Document.objects.exists():
            for path in sorted(CORPUS_DIR.glob("*.md")):
                document = document_upload(user=user, filename=path.name, data=path.read_bytes(), title=_title(path),
                                           enqueue=False)
                document_process(document_id=document.id)
        embedder = get_embedder()
        for labelled_question in questions:
            question = labelled_question["query"]
            phrase = collapsed(labelled_question["answer_phrase"])
            answering_title = _title(CORPUS_DIR / labelled_question["document"])
            experts = [ranked.agent for ranked in rank_agents(question=question, k=5)]
            texts = [f"{question} {a.title} {' '.join(a.capabilities[:2])}" for a in experts]
            started = time.perf_counter()
            question_vector = embedder.embed([question])[0]
            question_seconds = time.perf_counter() - started
            started = time.perf_counter()
            per_expert = embedder.embed(texts)
            vectors = {methods[0]: list(per_expert), methods[1]: [question_vector] * len(experts)}
            seconds[methods[0]] += time.perf_counter() - started
            seconds[methods[1]] += question_seconds
            for weight, method in zip(WEIGHTS, methods[2:]):
                mixed = []
                for agent in experts:
                    vector = question_vector + weight * np.asarray(agent.embedding, dtype=np.float32)
                    mixed.append(vector / np.linalg.norm(vector))
                vectors[method] = mixed
                seconds[method] += question_seconds
            for method, method_vectors in vectors.items():
                source_sets = []
                for text, vector in zip(texts, method_vectors):
                    hits = search(query=text, k=SOURCES_PER_EXPERT, query_vector=vector, record=False).hits
                    found[method].append(any(phrase in collapsed(hit.text) for hit in hits))
                    same_document[method].append(any(hit.document_title == answering_title for hit in hits))
                    source_sets.append({hit.chunk_id for hit in hits})
                pairs = [len(a & b) / SOURCES_PER_EXPERT for i, a in enumerate(source_sets) for b in source_sets[i + 1:]]
                between_experts[method].append(sum(pairs) / len(pairs))

    print(f"{len(questions)} labelled questions x 5 ranked experts x {SOURCES_PER_EXPERT} sources "
          f"(panels use weight {EXPERTISE_WEIGHT})")
    print(f"{'query vector':<56} {'passage':>8} {'document':>9} {'overlap':>8} {'embed ms/panel':>15}")
    for method in methods:
        print(f"{method:<56} {np.mean(found[method]):8.3f} {np.mean(same_document[method]):9.3f} "
              f"{np.mean(between_experts[method]):8.3f} {seconds[method] / len(questions) * 1000:15.1f}")


if __name__ == "__main__":
    main()
