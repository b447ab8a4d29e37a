"""The catalog's version changes with every change to the agents and their example
questions, whatever wrote it, and a number is never handed out twice; ranking's word match
weighs rare words more."""

import numpy as np
import pytest
from django.db import connection, transaction

from agents.models import Agent, AgentExample, CatalogVersion
from agents.ranking import CatalogMatrix, catalog_matrix, word_match

pytestmark = pytest.mark.django_db


def version() -> int:
    return CatalogVersion.objects.get(pk=1).number


def test_every_way_of_writing_an_agent_changes_the_version(catalog):
    agent = Agent.objects.order_by("slug").first()
    seen = [version()]

    agent.title = "Saved as the admin saves it"
    agent.save()
    seen.append(version())
    Agent.objects.filter(pk=agent.pk).update(name="Bulk")
    seen.append(version())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE agents_agent SET tier = tier WHERE id = %s", [agent.pk])
    seen.append(version())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agents_agentexample WHERE agent_id = %s", [agent.pk])
    seen.append(version())
    example = AgentExample.objects.filter(agent__is_active=True).first()
    example.text = "Edited by hand"
    example.save()
    seen.append(version())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agents_agent WHERE id = %s", [agent.pk])
    seen.append(version())

    assert len(set(seen)) == len(seen)


def test_a_rolled_back_change_does_not_lend_its_number_to_the_next(catalog):
    before = version()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            Agent.objects.filter(slug="fda-510k-specialist").update(name="Never kept")
            rolled_back = version()
            raise RuntimeError("roll back")
    assert version() == before
    Agent.objects.filter(slug="fda-510k-specialist").update(name="Kept")
    assert version() not in (before, rolled_back)


def test_the_catalog_matrix_is_read_again_after_a_change(catalog):
    first = catalog_matrix()
    assert catalog_matrix() is first  # unchanged catalog: the same matrix
    Agent.objects.filter(slug="fda-510k-specialist").update(is_active=False)
    after = catalog_matrix()
    assert after.version != first.version
    assert "fda-510k-specialist" in set(first.slugs) and "fda-510k-specialist" not in set(after.slugs)


def matrix(profiles: list[list[str]]) -> CatalogMatrix:
    postings = {}
    for row, words in enumerate(profiles):
        for word in words:
            postings.setdefault(word, []).append(row)
    return CatalogMatrix(version=0, ids=list(range(len(profiles))), slugs=np.array([]), domains=np.array([]),
                         dispositions=[], incompatible=[], vectors=np.zeros((len(profiles), 2)),
                         examples=np.zeros((len(profiles), 2)), example_grid=np.arange(len(profiles))[:, None],
                         example_texts=[None] * len(profiles), profile_hub=np.zeros(len(profiles)),
                         example_hub=np.zeros(len(profiles)), example_centroid=np.zeros(2),
                         postings={word: np.array(rows) for word, rows in postings.items()})


def test_word_match_weighs_rare_words_more():
    catalog = matrix([["regulatori", "510"], ["regulatori", "pricing"], ["regulatori"], ["regulatori"]])
    scores = word_match(catalog, ["regulatori", "510"])
    assert scores[0] == pytest.approx(1.0)  # has both words
    assert scores[1] == scores[2] == scores[3] < 0.5  # the common word alone is the smaller share
    assert scores[0] - scores[1] > scores[1]  # "510" (one agent) outweighs "regulatori" (all four)


def test_a_word_no_agent_has_still_counts_in_the_whole():
    catalog = matrix([["ecg"], ["pricing"]])
    assert word_match(catalog, ["ecg"])[0] == pytest.approx(1.0)
    assert 0 < word_match(catalog, ["ecg", "zebrafish"])[0] < 1.0
    assert list(word_match(catalog, [])) == [0.0, 0.0]


def test_the_version_row_comes_back_with_the_next_write_if_it_was_emptied(catalog):
    before = version()
    CatalogVersion.objects.all().delete()  # as a database flush does
    Agent.objects.filter(slug="fda-510k-specialist").update(name="Written after the flush")
    assert version() > before
