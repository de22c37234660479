"""`make run`'s processes stop as honcho stops them: on Ctrl-C it sends SIGTERM to each process group and SIGKILLs
what is left 5 s later. The worker of the Procfile, on the filesystem broker of `make run`, must be gone by then
(a warm shutdown: it finishes what it runs), or its running task dies with it; so must the mail gateway."""

import os
import shlex
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from conftest import free_port

HONCHO_KILL_AFTER = 5.0


def procfile_command(name: str) -> list[str]:
    for line in (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.split(":", 1)[1])
    raise AssertionError(f"no {name} in the Procfile")


@contextmanager
def procfile_process(command: list[str], env: dict[str, str], *, ready: str) -> Iterator[Callable[[], float]]:
    """Start `command` as honcho does (a process group of its own), wait until its output shows `ready`, and yield a
    function that stops it as honcho does (SIGTERM to the group) and returns how long it took to exit cleanly."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and the Procfile's arguments
        command,
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a process group of its own, as honcho gives each process
    )
    log: list[str] = []
    assert process.stdout is not None
    threading.Thread(target=lambda: log.extend(iter(process.stdout.readline, "")), daemon=True).start()

    def stop() -> float:
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=HONCHO_KILL_AFTER * 3)
        took = time.monotonic() - started
        # gone before honcho's SIGKILL would come, and cleanly
        assert took < HONCHO_KILL_AFTER, f"took {took:.1f} s:\n{''.join(log)[-2000:]}"
        assert process.returncode == 0, "".join(log)[-2000:]
        return took

    try:
        deadline = time.monotonic() + 60
        while ready not in "".join(log):
            assert process.poll() is None and time.monotonic() < deadline, "".join(log)
            time.sleep(0.1)
        yield stop
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_procfile_worker_stops_within_honchos_grace_period(tmp_path):
    # given the Procfile's worker on the filesystem broker (no REDIS_URL), on a queue of its own, ready
    command = procfile_command("worker")
    assert command[0] == "celery"
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env |= {"DJANGO_SETTINGS_MODULE": "helpdesk.settings.dev", "CELERY_QUEUE": f"run-mode-{uuid.uuid4().hex[:8]}"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with procfile_process([sys.executable, "-m", *command], env, ready=" ready.") as stop:
        # when honcho stops it, it is gone within the grace period by a warm shutdown
        stop()


def test_the_procfile_gateway_listens_and_stops_within_honchos_grace_period(tmp_path):
    # given the Procfile's mail gateway, on a free port
    command = procfile_command("gateway")
    assert command[:2] == ["python", "manage.py"]
    port = free_port()
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "helpdesk.settings.dev"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    argv = [sys.executable, *command[1:], "--port", str(port)]
    with procfile_process(argv, env, ready=f"Mail gateway (SMTP) listening on 127.0.0.1:{port}") as stop:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.ehlo()[0] == 250 and client.has_extn("size")
        # when honcho stops it, it is gone at once
        stop()
