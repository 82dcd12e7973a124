"""The Redis cache fails soft: without Redis, reads miss and writes are skipped."""

import logging
import socket

import pytest

from ruilkring import cache as fail_soft
from ruilkring.cache import FailSoftRedisCache
from tests.reliability.private_redis import PrivateRedis

OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def _cache(url: str) -> FailSoftRedisCache:
    return FailSoftRedisCache(url, {"OPTIONS": OPTIONS})


@pytest.fixture
def unreachable() -> FailSoftRedisCache:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return _cache(f"redis://127.0.0.1:{port}/0")


def test_an_unreachable_cache_reads_as_a_miss_and_skips_writes(unreachable):
    unreachable.set("a", 1)
    assert unreachable.get("a") is None
    assert unreachable.get("a", "default") == "default"
    assert unreachable.get_many(["a", "b"]) == {}
    assert unreachable.has_key("a") is False
    assert unreachable.get_or_set("b", 7) == 7
    assert unreachable.set_many({"c": 1, "d": 2}) == ["c", "d"]
    assert unreachable.delete("a") is False
    unreachable.delete_many(["a", "b"])
    assert unreachable.touch("a") is False
    with pytest.raises(ValueError, match="not found"):
        unreachable.incr("a")
    assert unreachable.clear() is False
    assert unreachable.reachable() is False


def test_an_unreachable_cache_says_add_succeeded_so_rate_limits_fail_open(unreachable):
    # django-allauth takes its rate-limit lock with add(); "not added" would
    # make it refuse every sign-in while Redis is away.
    assert unreachable.add("lock", True) is True


def test_the_outage_is_logged_once_not_on_every_call(unreachable, monkeypatch, caplog):
    monkeypatch.setattr(fail_soft, "RETRY_AFTER_SECONDS", 0.0)  # every call asks Redis
    caplog.set_level(logging.INFO, logger="ruilkring.cache")
    for number in range(10):
        unreachable.get(f"key-{number}")
        unreachable.set(f"key-{number}", number)
    assert [record.levelname for record in caplog.records] == ["WARNING"]


def test_after_a_failure_the_cache_waits_before_asking_redis_again(unreachable, monkeypatch):
    asked = []
    get_client = unreachable._cache.get_client

    def counting_get_client(*args, **kwargs):
        asked.append(args)
        return get_client(*args, **kwargs)

    monkeypatch.setattr(unreachable._cache, "get_client", counting_get_client)
    for number in range(5):
        assert unreachable.get(f"key-{number}") is None
    assert len(asked) == 1


def test_the_cache_works_again_as_soon_as_redis_answers(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ruilkring.cache")
    server = PrivateRedis(tmp_path)
    try:
        server.start()
        cache = _cache(server.url(0))
        cache.set("kept", "before")
        assert cache.get("kept") == "before"

        server.stop()
        assert cache.get("kept") is None
        cache.set("lost", "during")

        server.start()  # empty: this Redis keeps nothing on disk
        assert cache.reachable() is True
        cache.set("kept", "after")
        assert cache.get("kept") == "after"
        assert cache.get("lost") is None
        assert [record.levelname for record in caplog.records] == ["WARNING", "INFO"]
    finally:
        server.stop()
