"""The cache and the Celery broker live in separate Redis databases: clearing the cache (or evicting from it) never
drops a queued task. Needs a real Redis broker (REDIS_URL; CI sets it)."""

import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from helpdesk.celery import app
from helpdesk.settings.cache import next_database


def test_clearing_the_cache_leaves_queued_celery_tasks_in_the_broker():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: the broker must be a real Redis to hold the queued task (CI sets it)")
    # given a task queued on a queue of its own, that no worker consumes
    queue = f"test-cache-apart-{uuid.uuid4().hex}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.send_task("outbox.tasks.sweep_outbox", queue=queue)
    try:
        assert broker.llen(queue) == 1  # kombu's Redis transport: the queue is a list under its name

        # when the cache is cleared
        cache.set("test-cache-apart", "cached")
        cache.clear()

        # then the cache is empty and the task still waits in the broker
        assert cache.get("test-cache-apart") is None
        assert broker.llen(queue) == 1
    finally:
        broker.delete(queue)


@pytest.mark.parametrize(
    ("broker", "cache_url"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/5", "redis://127.0.0.1:6379/6"),
        ("redis://:secret@redis.example.com:6380", "redis://:secret@redis.example.com:6380/1"),
        ("rediss://redis.example.com/2?ssl_cert_reqs=required", "rediss://redis.example.com/3?ssl_cert_reqs=required"),
    ],
)
def test_the_cache_defaults_to_the_brokers_server_and_the_next_database(broker, cache_url):
    assert next_database(broker) == cache_url


def test_the_cache_and_the_broker_are_never_the_same_redis_database():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without it the cache is local memory and the broker the filesystem")

    assert settings.CACHES["default"]["LOCATION"] != settings.CELERY_BROKER_URL
