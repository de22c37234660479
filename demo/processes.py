"""The processes a benchmark runs beside the desk: an SMTP sink (demo.smtp_sink, aiosmtpd), SMTP clients
(demo.smtp_load) and a Celery worker, each a subprocess of this interpreter, started and stopped by bench_surveys and
bench_inbound."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

HOST = "127.0.0.1"


@dataclass
class Sink:
    process: subprocess.Popen[str]
    port: int

    def stop(self) -> list[str]:
        """Message-IDs received, in arrival order."""
        assert self.process.stdin is not None and self.process.stdout is not None  # noqa: S101 - pipes opened
        self.process.stdin.close()
        lines = self.process.stdout.read().splitlines()
        self.process.wait(timeout=30)
        if not lines or not lines[-1].startswith("done "):
            raise CommandError(f"The SMTP sink did not report: {lines[-5:]}")
        return lines[:-1]


@dataclass
class Load:
    process: subprocess.Popen[str]

    def result(self, *, timeout: float) -> tuple[float, float]:
        """(seconds from the first email to the last answer, wall-clock time of the first email)."""
        try:
            output, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise CommandError(f"The SMTP clients did not finish within {timeout:.0f} s.") from None
        match = re.fullmatch(r"sent \d+ in ([0-9.]+) s from ([0-9.]+)", output.strip())
        if self.process.returncode != 0 or match is None:
            raise CommandError(f"The SMTP clients failed: {output.strip()}")
        return float(match[1]), float(match[2])


@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: running tasks finish
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def database_url() -> str:
    """This process's database as a URL for the worker subprocess."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise CommandError("An in-memory SQLite database cannot be shared with a worker process.")
        return f"sqlite:///{os.path.abspath(name)}"
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{db['NAME']}"
    raise CommandError(f"The benchmarks support SQLite and Postgres, not {connection.vendor}.")


def sink_start() -> Sink:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "demo.smtp_sink", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert process.stdout is not None  # noqa: S101 - opened above
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise CommandError("The SMTP sink (aiosmtpd) did not start.")
    return Sink(process=process, port=port)


def load_start(*, port: int, recipient: str, n: int, connections: int, tag: str) -> Load:
    """demo.smtp_load: N emails to `recipient` over `connections` concurrent SMTP connections, started now."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "demo.smtp_load", HOST, str(port), recipient, str(n), str(connections), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=settings.BASE_DIR,
    )
    return Load(process=process)


def worker_start(*, queue: str, database_url: str, concurrency: int, port: int | None = None) -> Worker:
    """A worker on `queue`; with `port`, it sends email to the SMTP server there."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev"),
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
    }
    if port is not None:
        env["EMAIL_URL"] = f"smtp://{HOST}:{port}"  # → OUTBOX_DELIVERY_BACKEND is Django's SMTP backend
    cmd = [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", queue, "--pool=prefork"]
    cmd += [f"--concurrency={concurrency}", "--loglevel=INFO"]
    cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat", f"--hostname={queue}@%h"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=settings.BASE_DIR
    )
    worker = Worker(process=process)
    stdout = process.stdout
    assert stdout is not None  # noqa: S101 - opened above
    threading.Thread(target=lambda: worker.log.extend(iter(stdout.readline, "")), daemon=True).start()
    deadline = time.monotonic() + 60
    while " ready." not in worker.output():
        if process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            raise CommandError(f"The Celery worker did not start:\n{worker.output()}")
        time.sleep(0.1)
    return worker
