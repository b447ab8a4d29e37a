"""Hybrid retrieval: finds passages by meaning and by words, beats either path alone on a
labelled set, filters, records what it returned so citations can be verified."""

import re

import pytest
import yaml
from django_tenants.utils import schema_context

from rag.demo import CORPUS_DIR, _title
from rag.models import SearchRecord
from rag.retrieval import citation_id, citations_verify, search
from tests.factories import make_document, make_tenant

pytestmark = pytest.mark.django_db
QUERIES = yaml.safe_load((CORPUS_DIR.parent / "evaluation" / "retrieval_queries.yaml").read_text())["queries"]


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker, tmp_path_factory):
    """The whole 13-document demo corpus, ingested once into a tenant of its own (gamma),
    committed for this module and dropped after it."""
    from tests.conftest import media_root_at

    with media_root_at(tmp_path_factory.mktemp("corpus-media")), django_db_blocker.unblock():
        tenant = make_tenant("gamma", name="Gamma Corpus")
        try:
            documents = {}
            for path in sorted(CORPUS_DIR.glob("*.md")):
                documents[path.name] = make_document(tenant, path.name, path.read_bytes(), title=_title(path),
                                                     tags=["regulatory"] if "pathways" in path.name else ["market"])
            yield documents
        finally:
            tenant.delete(force_drop=True)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def recall_at_5(mode: str) -> float:
    hits = 0
    with schema_context("gamma"):
        for item in QUERIES:
            results = search(query=item["query"], k=5, mode=mode, record=False).hits
            phrase = _normalise(item["answer_phrase"])
            hits += any(phrase in _normalise(hit.text) for hit in results)
    return hits / len(QUERIES)


def test_hybrid_beats_vector_only_and_text_only(corpus, capsys):
    assert len(QUERIES) >= 40
    recall = {mode: recall_at_5(mode) for mode in ("vector", "text", "hybrid")}
    with capsys.disabled():
        print(f"\nrecall@5 on {len(QUERIES)} labelled queries: " +
              ", ".join(f"{mode} {value:.2f}" for mode, value in recall.items()))
    assert recall["hybrid"] > recall["vector"] and recall["hybrid"] > recall["text"]


def test_results_carry_document_chunk_text_span_and_scores(corpus):
    with schema_context("gamma"):
        result = search(query="PBRER periodic benefit-risk evaluation report", k=3)
    top = result.hits[0]
    assert top.document_title == "Pharmacovigilance: Case Processing, Signals, Periodic Reports and Risk Management" \
        or "harmacovigilance" in top.document_title
    assert top.citation == citation_id(top.chunk_id) and top.text and top.char_end > top.char_start
    assert top.score > 0 and (top.vector_rank or top.text_rank)


def test_filters_by_document_and_tag(corpus):
    device = corpus["us-device-pathways.md"]
    with schema_context("gamma"):
        only_device = search(query="premarket notification predicate", k=5, document_ids=[device.id]).hits
        market_only = search(query="premarket notification predicate", k=5, tags=["market"]).hits
    assert only_device and {hit.document_id for hit in only_device} == {device.id}
    assert device.id not in {hit.document_id for hit in market_only}


def test_every_search_is_recorded_and_citations_are_verified_against_it(corpus):
    with schema_context("gamma"):
        result = search(query="DiGA provisional listing", k=3, purpose="panel:77")
        record = SearchRecord.objects.get(pk=result.record_id)
        assert record.chunk_ids == [hit.chunk_id for hit in result.hits] and record.purpose == "panel:77"
        real = [hit.citation for hit in result.hits[:2]]
        check = citations_verify(citations=real + ["C999999", "made-up", real[0]], purpose="panel:77")
        assert check.verified == real
        assert check.dropped == ["C999999", "made-up"]
        other_panel = citations_verify(citations=real, purpose="panel:78")
        assert other_panel.verified == [] and other_panel.dropped == real


def test_another_tenants_documents_never_appear(db, corpus, beta, media_root):
    make_document(beta, "beta-only.txt", b"Beta's private note: the zebrafish assay budget is confidential.")
    with schema_context("beta"):
        hits = search(query="FDA priority review timelines PDUFA", k=10).hits
    assert hits and all(hit.document_title == "beta-only" for hit in hits)
    with schema_context("gamma"):
        assert not any("zebrafish" in hit.text for hit in search(query="zebrafish assay budget", k=10).hits)


def test_citations_from_another_tenants_search_are_not_verified(db, corpus, beta, media_root):
    with schema_context("gamma"):
        alpha_hits = search(query="biosimilar interchangeability", k=3, purpose="panel:5").hits
    with schema_context("beta"):
        check = citations_verify(citations=[hit.citation for hit in alpha_hits], purpose="panel:5")
    assert check.verified == []
