"""config/cache.py: Django's Redis cache with one kept client per process. A kept client
must behave like a fresh one: after a fork, and after Redis closes its connections."""

import os

import pytest
from django.core.cache import caches


@pytest.fixture
def cache():
    cache = caches["routing"]
    cache.set_many({"probe:a": "A", "probe:b": "B"}, 30)
    yield cache
    cache.delete_many(["probe:a", "probe:b"])


def test_the_cache_reads_what_it_wrote(cache):
    assert cache.get("probe:a") == "A"
    assert cache.get("probe:missing") is None
    assert cache.get_many(["probe:a", "probe:b", "probe:missing"]) == {"probe:a": "A", "probe:b": "B"}


def test_a_forked_child_and_its_parent_each_get_their_own_answers(cache):
    assert cache.get("probe:a") == "A"  # the parent holds a connection now
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code
        ok = all(cache.get("probe:b") == "B" for _ in range(200))
        os._exit(0 if ok else 1)
    parent_answers = [cache.get("probe:a") for _ in range(200)]
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert set(parent_answers) == {"A"}


def test_reads_survive_redis_closing_the_connections(cache):
    assert cache.get("probe:a") == "A"
    client = cache._cache.get_client()
    # Redis closes this client's connection, as after a restart or an idle timeout.
    assert client.client_kill_filter(_id=client.client_id(), skipme=False) == 1
    assert cache.get("probe:b") == "B"
    assert cache.get("probe:a") == "A"
