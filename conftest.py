import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parseaddr
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from helpdesk.celery import app as celery_app
from tickets.models import Queue, QueueMembership
from tickets.tests.factories import AdminFactory, CustomerFactory, MembershipFactory, QueueFactory, UserFactory


@pytest.fixture
def queue(db) -> Queue:
    return QueueFactory()


@pytest.fixture
def agent(queue):
    return MembershipFactory(queue=queue, role=QueueMembership.Role.AGENT).user


@pytest.fixture
def lead(queue):
    return MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user


@pytest.fixture
def outsider(db):
    """An agent of another queue."""
    return MembershipFactory().user


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def plain_user(db):
    return UserFactory()


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored files (attachments, large raw emails) go to a temporary directory for the test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def fresh_rate_limits():
    """No rate-limit counters before and after the test: they live in the cache, which the whole process shares."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def own_templates(settings, tmp_path):
    """Templates of a test's own (name → source), found before the project's: for extensions registered by a test."""
    directory = tmp_path / "templates"
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [directory, *settings.TEMPLATES[0]["DIRS"]]}]

    def write(files: dict[str, str]) -> None:
        for name, source in files.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(source)

    return write


# --- concurrency (tests with transactional_db) -----------------------------------------------------------------------


def run_at_once(task, *, times: int = 2) -> None:
    """Run `task` in `times` threads released together, each on a database connection of its own (closed after)."""
    barrier = threading.Barrier(times)

    def run() -> None:
        barrier.wait()
        try:
            task()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def postgres_race(transactional_db):
    """Committed rows, seen by threads on connections of their own, on Postgres: the race tests need its row locks."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs DATABASE_URL on Postgres (CI sets it): SQLite runs one write transaction at a time "
            "(IMMEDIATE), so these races cannot happen there"
        )


def lock_waiters() -> int:
    """Postgres: how many other sessions of this database are waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the activity view is otherwise frozen per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def run_queued_behind(hold, *tasks) -> list[BaseException]:
    """Postgres: a race made certain. In a transaction of this thread `hold()` takes row locks; each task then starts
    in a thread of its own (its own connection), the next one once the previous is waiting for a lock, so each has
    got as far as it can; then the transaction ends and they all go on at once. Returns what the tasks raised."""
    errors: list[BaseException] = []

    def run(task) -> None:
        try:
            task()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads: list[threading.Thread] = []
    try:
        with transaction.atomic():
            hold()
            for number, task in enumerate(tasks, start=1):
                threads.append(threading.Thread(target=run, args=(task,)))
                threads[-1].start()
                wait_until(lambda n=number: lock_waiters() >= n, timeout=20, what=f"task {number} to wait for a lock")
    finally:
        for thread in threads:
            thread.join(timeout=60)
    return errors


# --- a real Celery worker process (integration tests) -------------------------------------------------------------


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    queue: str
    log: list[str]

    def output(self) -> str:
        return "".join(self.log)


def _database_url_for_subprocess() -> str:
    db = connection.settings_dict  # inside a test this is the *test* database (e.g. test_test)
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(
    *,
    queue: str,
    extra_env: dict[str, str] | None = None,
    concurrency: int = 1,
    pool: str = "prefork",
    module: str = "celery",
) -> WorkerProcess:
    """A `celery worker` subprocess on `queue`, sharing this test's database; returns once it logged "ready".
    `module`: run as `python -m <module>` instead, e.g. a test's wrapper that patches something, then runs celery."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "DATABASE_URL": _database_url_for_subprocess(),
        "CELERY_QUEUE": queue,
        **(extra_env or {}),
    }
    cmd = [sys.executable, "-m", module, "-A", "helpdesk", "worker", "-Q", queue, f"--pool={pool}"]
    cmd += [f"--concurrency={concurrency}"]
    cmd += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=settings.BASE_DIR
    )
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(iter(process.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    worker = WorkerProcess(process=process, queue=queue, log=log)
    deadline = time.monotonic() + 60
    while " ready." not in worker.output():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{worker.output()}")
        time.sleep(0.1)
    return worker


def wait_until(predicate, *, timeout: float, what: str) -> None:
    """Poll `predicate` (every 0.1 s) until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def stop_worker(worker: WorkerProcess) -> None:
    if worker.process.poll() is None:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()


@pytest.fixture
def celery_queue(transactional_db):
    """A broker queue unique to this test, used by this process and by any worker the test starts.

    Skips, with the reason, where a worker process cannot share the broker and the test database.
    """
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: a real worker process consumes over Redis (CI sets it)")
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL on Postgres: the worker process must share the test database (CI sets it)")
    queue = f"test-{uuid.uuid4().hex[:10]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def celery_worker_process(celery_queue):
    worker = start_worker(queue=celery_queue)
    yield worker
    stop_worker(worker)


# --- an SMTP server in this process (aiosmtpd) ----------------------------------------------------------------------


class SmtpSink:
    """Accepts mail. `rcpt_responses` and `responses` script the answers to RCPT TO and DATA (e.g. ["450 busy"],
    ["451 try later"]); after them it answers 250. `peers`: the client connections that named a recipient."""

    def __init__(self) -> None:
        self.rcpt_responses: list[str] = []
        self.responses: list[str] = []
        self.received: list = []
        self.peers: set = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.peers.add(session.peer)
        response = self.rcpt_responses.pop(0) if self.rcpt_responses else "250 OK"
        if response.startswith("250"):
            envelope.rcpt_tos.append(address)
        return response

    async def handle_DATA(self, server, session, envelope) -> str:
        response = self.responses.pop(0) if self.responses else "250 Message accepted"
        if response.startswith("250"):
            self.received.append(envelope)
        return response

    def senders(self) -> list[tuple[str, str]]:
        """(display name, address) of the From header of each received message, read as a mail client reads it:
        the header unfolded, the address parsed, the display name's RFC 2047 encoded words decoded and joined."""
        senders = []
        for envelope in self.received:
            header = re.sub(r"\r?\n(?=[ \t])", "", message_from_bytes(envelope.content)["From"])
            name, address = parseaddr(header)
            senders.append((str(make_header(decode_header(name))), address))
        return senders


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """Starts real SMTP servers on localhost (aiosmtpd): `smtp_server(handler, **smtp_parameters)` returns the
    started Controller, and the outbox delivers to it over SMTP (plain, no login) from then on. SMTP parameters are
    aiosmtpd's, e.g. `authenticator=…, auth_required=True, auth_require_tls=False`. All are stopped after the test."""
    from aiosmtpd.controller import Controller

    controllers = []

    def start(handler, **smtp_parameters):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_parameters)
        controller.start()
        controllers.append(controller)
        settings.OUTBOX_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        return controller

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_sink(smtp_server):
    """A real SMTP server on localhost; the outbox delivers to it over SMTP for the duration of the test."""
    sink = SmtpSink()
    smtp_server(sink)
    return sink
