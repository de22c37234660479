"""Fixtures of the inbound tests: file storage in a temp dir, the corpus outcome table, and a real IMAP server for
the polling tests: Debian's dovecot (`make imap-server`), started per test in a temp dir."""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted, MailMessageFlags

from conftest import free_port
from tickets.models import Message, Ticket
from tickets.services import customer_get_or_create, message_add, ticket_create

# "case → outcome" rows of the corpus run (test_corpus.py), printed at the end of the session.
CORPUS_OUTCOMES: dict[str, str] = {}


@pytest.fixture
def ticket(queue, agent) -> Ticket:
    """Jo's ticket (jo@customer.example), answered by an agent by email (one of our Message-IDs on it, purpose
    "reply")."""
    jo = customer_get_or_create(email="jo@customer.example", name="Jo Customer")
    ticket = ticket_create(queue=queue, customer=jo, subject="Printer on fire", body="It is on fire.", by=None)
    message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Unplug it.", by=agent)
    return ticket


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Attachments and large raw emails are written to file storage: keep them out of the checkout."""
    settings.MEDIA_ROOT = tmp_path


def pytest_terminal_summary(terminalreporter):
    if not CORPUS_OUTCOMES:
        return
    terminalreporter.section("inbound corpus: case → outcome")
    width = max(len(case) for case in CORPUS_OUTCOMES)
    for case, outcome in sorted(CORPUS_OUTCOMES.items()):
        terminalreporter.write_line(f"{case:<{width}}  {outcome}")


DOVECOT = "/usr/sbin/dovecot"


@dataclass
class Dovecot:
    host: str
    port: int
    username: str
    password: str

    def client(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted(self.host, self.port, timeout=10).login(
            self.username, self.password, initial_folder=None
        )

    def append(self, raw: bytes, *, folder: str = "INBOX", seen: bool = False) -> int:
        """Deliver a message the way a mail client files one (IMAP APPEND); returns its UID."""
        with self.client() as mailbox:
            result = mailbox.append(raw, folder, flag_set=[MailMessageFlags.SEEN] if seen else [])
        return int(result[1][0].split(b"APPENDUID ")[1].split()[1].rstrip(b"]"))

    def seen_uids(self, folder: str = "INBOX") -> set[int]:
        with self.client() as mailbox:
            mailbox.folder.set(folder, readonly=True)
            return {int(uid) for uid in mailbox.uids("SEEN")}


def _config(root: Path, port: int) -> str:
    """Plain-text IMAP on 127.0.0.1, one user from a passwd-file, maildirs under root. As root, dovecot's own
    unprivileged users run its services and `nobody` owns the mail (dovecot never accesses mail as UID 0); as
    anyone else, everything runs as that user."""
    if os.geteuid() == 0:
        internal, login, mail_user = "dovecot", "dovenull", pwd.getpwnam("nobody")
        shutil.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
    else:
        internal = login = getpass.getuser()
        mail_user = pwd.getpwuid(os.geteuid())
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
"""


def _answers(port: int) -> bool:
    try:
        MailBoxUnencrypted("127.0.0.1", port, timeout=2).client.logout()
    except OSError:
        return False
    return True


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A dovecot of its own (foreground subprocess) on a free port of 127.0.0.1, stopped after the test."""
    if not os.path.exists(DOVECOT):
        message = f"needs {DOVECOT}: run `make imap-server` (Debian's dovecot-imapd)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))  # not pytest's tmp_path: dovecot's users need access
    root.chmod(0o755)
    (root / "mail").mkdir()
    (root / "users").write_text("agent:{PLAIN}s3cret-Pa55::::::\n")
    port = free_port()
    (root / "dovecot.conf").write_text(_config(root, port))
    process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config
        [DOVECOT, "-c", str(root / "dovecot.conf"), "-F"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                output = process.stdout.read().decode() if process.poll() is not None else ""  # type: ignore[union-attr]
                pytest.fail(f"dovecot did not start:\n{output}\n{log}")
            time.sleep(0.05)
        yield Dovecot(host="127.0.0.1", port=port, username="agent", password="s3cret-Pa55")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
