"""An SMTP server that accepts every message and remembers its Message-ID: bench_surveys runs it in a process of its
own (needs aiosmtpd, a dev dependency). No Django here.

    python -m demo.smtp_sink PORT

prints "ready" once it listens on 127.0.0.1:PORT; when its stdin is closed it stops and prints one line per message
received ("<message-id>", in arrival order), then "done N".
"""

from __future__ import annotations

import re
import sys
from typing import Any

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class RecordingSink:
    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        header_end = envelope.content.find(b"\r\n\r\n")
        match = MESSAGE_ID.search(envelope.content, 0, header_end if header_end >= 0 else len(envelope.content))
        self.message_ids.append(match.group(1).decode() if match else "")
        return "250 Message accepted"


def main(port: int) -> None:
    sink = RecordingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        controller.stop()
    sys.stdout.write("".join(f"{message_id}\n" for message_id in sink.message_ids))
    print(f"done {len(sink.message_ids)}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
