"""What a customer message that came by email carries besides its text: its Message-ID, its whole text (quoted
history included, one click away on the ticket page), the purpose of our email it answers, and its files.

The inbound app parses and routes emails; it hands the results to tickets.services (ticket_create, message_add) as
an EmailDetails, and those store the files here, within the queue's limits (Queue.attachment_max_mb and
attachment_max_count). A file over a limit is not kept and the message says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat

from .models import Attachment, Channel, Message, Queue


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class EmailDetails:
    message_id: str
    full_body: str = ""
    reply_to_purpose: str = ""
    files: tuple[IncomingFile, ...] = field(default=())


def email_fields(details: EmailDetails | None) -> dict[str, str]:
    """The Message fields of a message that came by email (none for one written on the web)."""
    if details is None:
        return {}
    return {
        "channel": Channel.EMAIL,
        "email_message_id": details.message_id[:255],
        "full_body": details.full_body,
        "reply_to_purpose": details.reply_to_purpose[:30],
    }


def attachments_store(*, message: Message, files: tuple[IncomingFile, ...], queue: Queue) -> list[str]:
    """Store the files that fit the queue's limits with the message; returns a note for each one that did not."""
    notes: list[str] = []
    max_bytes = queue.attachment_max_mb * 1024 * 1024
    kept = 0
    for incoming in files:
        size = len(incoming.content)
        if kept >= queue.attachment_max_count:
            notes.append(f"{incoming.filename} was not kept: more than {queue.attachment_max_count} attachments.")
            continue
        if size > max_bytes:
            notes.append(
                f"{incoming.filename} ({filesizeformat(size)}) was not kept: "
                f"larger than this queue's {queue.attachment_max_mb} MB limit."
            )
            continue
        attachment = Attachment(
            message=message,
            filename=incoming.filename[:255],
            content_type=incoming.content_type[:100],
            size=size,
        )
        attachment.file.save(incoming.filename, ContentFile(incoming.content), save=False)
        attachment.save()
        kept += 1
    return notes
