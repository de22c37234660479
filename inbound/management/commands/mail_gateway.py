"""`manage.py mail_gateway [--host H] [--port P] [--lmtp]`: the mail gateway (inbound.gateway) until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from inbound.gateway import Gateway


class Command(BaseCommand):
    help = (
        "Receive email for the queues over SMTP (or LMTP with --lmtp): each email is stored before it is answered "
        "for with 250, then routed by the Celery worker. Point your MTA (or the MX) at it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.INBOUND_GATEWAY_HOST, help="default %(default)s")
        parser.add_argument("--port", type=int, default=settings.INBOUND_GATEWAY_PORT, help="default %(default)s")
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP (RFC 2033) instead of SMTP")

    def handle(self, *args: Any, host: str, port: int, lmtp: bool, **options: Any) -> None:
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        gateway = Gateway(host=host, port=port, lmtp=lmtp)
        gateway.start()
        self.stdout.write(f"Mail gateway ({gateway.protocol}) listening on {host}:{port}")
        self.stdout.flush()
        try:
            stopping.wait()
        finally:
            gateway.stop()
        self.stdout.write("Mail gateway stopped.")
