"""A real HTTP server on 127.0.0.1 (port 0) in a thread, with scripted answers: the other end of a webhook in tests."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers POSTs with the scripted `statuses` (then 200), after `delay_seconds`, and records each request."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    delay_seconds: float = 0.0
    requests: list[Received] = field(default_factory=list)


@contextmanager
def run_receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(Received(headers=dict(self.headers.items()), body=body))
            if state.delay_seconds:
                threading.Event().wait(state.delay_seconds)
            status = state.statuses.pop(0) if state.statuses else 200
            reply = b"gone" if status == 410 else b"ok"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/helpdesk"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
