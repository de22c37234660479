"""Real worker processes on Redis + Postgres: a worker killed mid-send loses nothing and duplicates nothing."""

import asyncio
import os
import signal
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from conftest import SmtpSink, free_port, start_worker, stop_worker, wait_until
from outbox import services
from outbox.models import OutgoingEmail
from outbox.tasks import send_outgoing_emails, sweep_outbox

pytestmark = pytest.mark.integration
LEASE_SECONDS = 3


class StallingSink(SmtpSink):
    """Hangs on the first RCPT TO (before any DATA), like a slow server, so the sender can be killed mid-send."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(60)
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_worker_killed_mid_send_then_lease_expires_and_the_sweep_sends_exactly_one(celery_queue):
    sink = StallingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    worker_env = {
        "EMAIL_URL": f"smtp://127.0.0.1:{controller.port}",
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    first = start_worker(queue=celery_queue, extra_env=worker_env, pool="solo")
    second = None
    try:
        # given an email handed to a worker that is stuck talking to the SMTP server
        email = services.email_enqueue(kind="system", to="ada@example.org", subject="Hi", text="x")
        first_token, ids = services.email_jobs.claim_due()  # what the sweep does: claim, then publish the send task
        send_outgoing_emails.delay(ids, first_token)
        wait_until(sink.stalled.is_set, timeout=30, what="the worker to reach the SMTP server")

        # when the worker is killed with SIGKILL mid-send
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
        email.refresh_from_db()
        assert email.status == OutgoingEmail.Status.SENDING
        assert sweep_outbox() == 0  # the lease still holds: nobody else may send it yet

        # then once the lease expires the sweep claims it again and a live worker sends it, once
        second = start_worker(queue=celery_queue, extra_env=worker_env, pool="solo")
        time.sleep(LEASE_SECONDS + 1)
        assert sweep_outbox() == 1
        wait_until(lambda: OutgoingEmail.objects.get(pk=email.pk).status == "sent", timeout=30, what="the resend")

        # and the killed worker's task, redelivered by the broker (acks_late), sends nothing
        send_outgoing_emails.delay(ids, first_token)
        wait_until(lambda: second.output().count("succeeded") == 2, timeout=30, what="the redelivered task")
        assert "succeeded" in second.output().splitlines()[-1] and second.output().rstrip().endswith(": 0")
        assert len(sink.received) == 1
        assert email.message_id in sink.received[0].content.decode()
    finally:
        for worker in (first, second):
            if worker is not None:
                stop_worker(worker)
        controller.stop()
