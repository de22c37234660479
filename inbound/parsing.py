"""Reading an email: headers, text, files, and what kind of email it is (an auto-reply, a bounce, a forward).

Whatever the bytes, parsing returns a ParsedEmail or raises ParseError with a reason: malformed headers give empty
values, unknown or broken charsets decode with replacement characters (ISO-8859-1 is read as its superset
Windows-1252, as mail clients do), format=flowed text is joined back into its paragraphs, HTML is sanitised with
nh3 and never kept raw. The reply text is the new text only: quoted history cut where a client's attribution
("On … wrote:", Outlook's "From: … Sent: …" block, "-----Original Message-----") starts, and the signature at "-- "
or a mail app's "Sent from my …" line (never at a sign-off such as "Thanks,", which may start the customer's text).
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

import nh3
from django.conf import settings
from mailparser_reply.parser import EmailMessage as ReplyFragments

from tickets.email_in import IncomingFile

REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "sv"]
SUBJECT_TAG = re.compile(r"\[HD-(\d{1,12})\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|wg|tr|rv)\s*:", re.IGNORECASE)
FORWARD_MARKER = re.compile(
    r"^[ \t>]*(-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:|-{2,}\s*Original Message\s*-{2,})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
FORWARD_FROM = re.compile(r"^[ \t>]*From:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
BLOCK_END = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>", re.IGNORECASE)
# Where a signature starts: the "-- " delimiter (RFC 3676), a line of underscores, a mail app's own line. Sign-offs
# ("Thanks,", "Best regards") are not: they also start sentences of the message itself.
SIGNATURE = re.compile(
    r"^(?:--[ \t]*|_{2,}[ \t]*|(?:Sent from my|Sent from Mail for|Get Outlook for|Von meinem|Gesendet von|"
    r"Envoyé de mon|Enviado desde mi|Inviato da(?:l mio)?|Verzonden vanaf mijn|Skickat från min)\b.*)$",
    re.IGNORECASE | re.MULTILINE,
)
LATIN1_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"}


class ParseError(Exception):
    """The message cannot be read at all; the reason is kept on the row."""


@dataclass(frozen=True)
class DsnRecipient:
    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass(frozen=True)
class Dsn:
    """A delivery status notification (RFC 3464) and the Message-ID of the email it reports on."""

    recipients: tuple[DsnRecipient, ...]
    original_message_id: str


@dataclass(frozen=True)
class Forwarded:
    """The original of a forwarded email: its sender and text."""

    email: str
    name: str
    text: str


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_email: str
    from_name: str
    subject: str
    text: str  # the whole text (from text/plain, else from the sanitised HTML)
    html: str  # sanitised HTML, "" when there was none
    reply_text: str  # the new text only: quoted history and signature stripped
    files: tuple[IncomingFile, ...] = field(default=())
    automatic: str = ""  # why it is an automatic message (RFC 3834 and common headers), "" for a person's
    no_auto_reply: bool = False  # X-Auto-Response-Suppress (Outlook sets it on ordinary mail too): no acknowledgement
    dsn: Dsn | None = None
    dmarc_pass_domains: frozenset[str] = frozenset()
    forwarded: Forwarded | None = None
    copied: tuple[str, ...] = ()  # the addresses in Cc but the sender's (ours among them: routing tells)

    @property
    def subject_ticket_id(self) -> int | None:
        match = SUBJECT_TAG.search(self.subject)
        return int(match.group(1)) if match else None

    @property
    def referenced_ids(self) -> tuple[str, ...]:
        return self.in_reply_to + self.references


def header_text(message: Message, name: str) -> str:
    """A header's value as text; a malformed one gives its raw text, an unreadable one "" (never an exception)."""
    try:
        value = message.get(name)
    except Exception:
        value = None
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                value = raw
                break
    if value is None:
        return ""
    try:
        return " ".join(str(value).split())
    except Exception:
        return ""


def _message_ids(text: str) -> tuple[str, ...]:
    return tuple(MESSAGE_ID.findall(text))


def _charset(name: str | None) -> str:
    name = (name or "utf-8").strip().strip('"').lower()
    if name in LATIN1_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def decode_part(part: Message) -> str:
    """A text part's content as str: broken charsets and bytes become replacement characters."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return payload.decode(_charset(part.get_content_charset()), errors="replace")


def unflow(text: str, *, delsp: bool) -> str:
    """A format=flowed text (RFC 3676) as its paragraphs: a line ending in a space goes on in the next line of the
    same quote depth; space-stuffing is undone."""
    lines: list[str] = []
    continues, previous_depth = False, 0
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        content = content[1:] if content.startswith(" ") else content
        soft = content.endswith(" ") and content.rstrip() != "--"
        if soft and delsp:
            content = content[:-1]
        if continues and depth == previous_depth and lines:
            lines[-1] += content
        else:
            lines.append(">" * depth + (" " if depth and content else "") + content)
        continues, previous_depth = soft, depth
    return "\n".join(lines)


def _plain_text(part: Message) -> str:
    text = decode_part(part)
    if str(part.get_param("format", "")).lower() == "flowed":
        text = unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def html_to_text(html: str) -> str:
    text = nh3.clean(BLOCK_END.sub("\n", html), tags=set())
    lines = [" ".join(line.split()) for line in html_lib.unescape(text).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_sanitise(html: str) -> str:
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")


def reply_text(text: str) -> str:
    """The new text of a reply: quoted history and signature stripped (the whole text when nothing is left).

    mail-parser-reply finds where the quoted history starts (client headers such as "On … wrote:" or Outlook's
    "From: … Sent: …" block, in many languages); its own signature rules also cut at sign-offs and hyphen lists,
    which would lose the customer's words, so the signature is cut here at SIGNATURE only."""
    try:
        fragments = ReplyFragments(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read()
        reply = fragments.replies[0].content if fragments.replies and not fragments.replies[0].headers else ""
    except Exception:
        reply = ""
    signature = SIGNATURE.search(reply)
    if signature:
        reply = reply[: signature.start()]
    return reply.strip() or text.strip()


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    name = " ".join((name or "").split()).replace("/", "_").replace("\\", "_")
    return name or "attachment"


def _is_attachment(part: Message) -> bool:
    if part.get_content_maintype() == "multipart":
        return False
    if part.get_content_type() == "message/rfc822":
        return True
    disposition = part.get_content_disposition()
    return disposition == "attachment" or (disposition == "inline" and part.get_content_maintype() != "text")


def _automatic(message: Message) -> str:
    """Why this is an automatic message that must never create or reopen a ticket nor be answered ("" if not)."""
    auto = header_text(message, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    # X-MS-Exchange-Inbox-Rules-Loop: written by an Exchange inbox rule (its out-of-office replies among them).
    for name in ("X-Autoreply", "X-Autorespond", "X-MS-Exchange-Inbox-Rules-Loop"):
        if header_text(message, name):
            return f"{name} header"
    precedence = header_text(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    if header_text(message, "List-Id"):
        return "mailing list (List-Id)"
    return ""


def _dsn(message: Message) -> Dsn | None:
    if message.get_content_type() != "multipart/report":
        return None
    recipients: list[DsnRecipient] = []
    original = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload():
                if not isinstance(block, Message):
                    continue
                recipient = header_text(block, "Final-Recipient") or header_text(block, "Original-Recipient")
                if not recipient:
                    continue
                recipients.append(
                    DsnRecipient(
                        recipient=recipient.split(";")[-1].strip().strip("<>"),
                        action=header_text(block, "Action").lower(),
                        status=header_text(block, "Status"),
                        diagnostic=header_text(block, "Diagnostic-Code"),
                    )
                )
        elif content_type == "message/rfc822" and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original = header_text(inner[0], "Message-ID")
        elif content_type == "text/rfc822-headers" and not original:
            original = header_text(message_from_string(decode_part(part), policy=policy.default), "Message-ID")
    if not recipients:
        return None
    return Dsn(recipients=tuple(recipients), original_message_id=original)


def _dmarc_pass_domains(message: Message) -> frozenset[str]:
    """From domains that a trusted receiving host (INBOUND_TRUSTED_AUTHSERV_IDS) says passed DMARC."""
    trusted = {host.lower() for host in settings.INBOUND_TRUSTED_AUTHSERV_IDS}
    domains: set[str] = set()
    try:
        values = [str(value) for value in message.get_all("Authentication-Results") or []]
    except Exception:
        return frozenset()
    for value in values:
        authserv_id, _, results = value.partition(";")
        if authserv_id.strip().split()[0:1] and authserv_id.strip().split()[0].lower() in trusted:
            for result in results.split(";"):
                found = re.search(r"\bdmarc=pass\b.*\bheader\.from=([^\s;]+)", result, re.IGNORECASE)
                if found:
                    domains.add(found.group(1).lower())
    return frozenset(domains)


def _forwarded(subject: str, text: str, files: tuple[IncomingFile, ...]) -> Forwarded | None:
    """The original of a forwarded email: the first From: after a forward marker in the text, or an attached
    message/rfc822."""
    marker = FORWARD_MARKER.search(text)
    if marker:
        after = text[marker.end() :]
        sender = FORWARD_FROM.search(after)
        if sender:
            name, address = parseaddr(sender.group(1).replace("[mailto:", "<").replace("]", ">"))
            header_block_end = re.search(r"\n[ \t>]*\n", after[sender.end() :])
            body = after[sender.end() + header_block_end.end() :] if header_block_end else ""
            if "@" in address:
                return Forwarded(email=address, name=name, text=body.strip() or after.strip())
    if FORWARD_SUBJECT.match(subject):
        for incoming in files:
            if incoming.content_type == "message/rfc822":
                inner = message_from_bytes(incoming.content, policy=policy.default)
                name, address = parseaddr(header_text(inner, "From"))
                if "@" in address:
                    inner_text, _ = _bodies(inner)
                    return Forwarded(email=address, name=name, text=inner_text)
    return None


def _bodies(message: Message) -> tuple[str, str]:
    """(text, sanitised html) of the message's first text/plain and text/html parts that are not attachments."""
    text = html = ""
    for part in message.walk():
        if _is_attachment(part) or part.get_content_maintype() != "text":
            continue
        if part.get_content_type() == "text/plain" and not text:
            text = _plain_text(part)
        elif part.get_content_type() == "text/html" and not html:
            html = html_sanitise(decode_part(part))
    if not text and html:
        text = html_to_text(html)
    return text.replace("\r\n", "\n").strip(), html


def _files(message: Message) -> tuple[IncomingFile, ...]:
    files = []
    for part in message.walk():
        if not _is_attachment(part):
            continue
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            content = (
                inner[0].as_bytes() if isinstance(inner, list) and inner and isinstance(inner[0], Message) else b""
            )
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
        files.append(IncomingFile(filename=_filename(part), content_type=part.get_content_type(), content=content))
    return tuple(files)


def _copied(message: Message, sender: str) -> tuple[str, ...]:
    """The addresses in Cc but the sender's, each once (case-insensitively), in order. Not To: an email often comes
    to the desk through an alias or a list, which must not get the replies."""
    seen = {sender.strip().lower()}
    copied = []
    for _, address in getaddresses([header_text(message, "Cc")]):
        if "@" in address and address.lower() not in seen:
            seen.add(address.lower())
            copied.append(address)
    return tuple(copied)


def parse(raw: bytes) -> ParsedEmail:
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:
        raise ParseError(f"unreadable MIME: {exc}") from exc
    if not isinstance(message, EmailMessage) or not message.keys():
        raise ParseError("no headers: not an email")
    from_name, from_email = parseaddr(header_text(message, "From"))
    if not from_email or "@" not in from_email:
        addresses = getaddresses([header_text(message, "Sender"), header_text(message, "Reply-To")])
        from_name, from_email = next(((n, a) for n, a in addresses if "@" in a), (from_name, ""))
    subject = header_text(message, "Subject")
    text, html = _bodies(message)
    files = _files(message)
    return ParsedEmail(
        message_id=(_message_ids(header_text(message, "Message-ID")) or ("",))[0],
        in_reply_to=_message_ids(header_text(message, "In-Reply-To")),
        references=_message_ids(header_text(message, "References")),
        from_email=from_email.strip(),
        from_name=from_name.strip(),
        subject=subject,
        text=text,
        html=html,
        reply_text=reply_text(text),
        files=files,
        automatic=_automatic(message),
        no_auto_reply=bool(header_text(message, "X-Auto-Response-Suppress")),
        dsn=_dsn(message),
        dmarc_pass_domains=_dmarc_pass_domains(message),
        forwarded=_forwarded(subject, text, files),
        copied=_copied(message, from_email),
    )
