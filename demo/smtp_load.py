"""SMTP clients for bench_inbound, in a process of their own (so that they do not share the interpreter lock with
the server they measure). No Django here.

    python -m demo.smtp_load HOST PORT RECIPIENT N CONNECTIONS TAG

sends N small emails to RECIPIENT over CONNECTIONS concurrent connections (one thread each, many emails per
connection), each email with its own Message-ID and sender (customer<i>@TAG.bench.example.org). Prints
"sent N in S s from T" (T: the wall-clock start, once every connection is open), or "failed …" and exits 1.
"""

from __future__ import annotations

import contextlib
import smtplib
import sys
import threading
import time
from email.utils import formatdate

BODY = (
    "Hello,\r\n\r\nsince this morning the printer on the second floor shows error E-42 and will not print.\r\n"
    "We tried switching it off and on again. Could you have a look?\r\n\r\nThanks,\r\nCustomer {i}\r\n"
)


def email(i: int, *, recipient: str, tag: str) -> tuple[str, bytes]:
    sender = f"customer{i}@{tag}.bench.example.org"
    headers = (
        f"From: Customer {i} <{sender}>\r\nTo: {recipient}\r\nSubject: Printer error E-42 ({i})\r\n"
        f"Date: {formatdate()}\r\nMessage-ID: <{i}.{tag}@bench.example.org>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
    )
    return sender, (headers + BODY.format(i=i)).encode()


def main(host: str, port: int, recipient: str, n: int, connections: int, tag: str) -> int:
    emails = [email(i, recipient=recipient, tag=tag) for i in range(n)]
    chunks = [emails[k::connections] for k in range(connections)]
    ready = threading.Barrier(connections + 1)
    failures: list[str] = []

    def client(chunk: list[tuple[str, bytes]]) -> None:
        try:
            with smtplib.SMTP(host, port, timeout=60) as smtp:
                smtp.ehlo()
                ready.wait()
                for sender, message in chunk:
                    smtp.sendmail(sender, [recipient], message)
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            ready.abort()

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client could not connect: reported below
        ready.wait()
    started_wall, started = time.time(), time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        print(f"failed: {len(failures)} connections, e.g. {failures[0]}", flush=True)
        return 1
    print(f"sent {n} in {seconds:.6f} s from {started_wall:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    host, port, recipient, n, connections, tag = sys.argv[1:7]
    sys.exit(main(host, int(port), recipient, int(n), int(connections), tag))
