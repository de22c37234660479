"""Downloading the files that came with a customer's email: to users who can see the ticket, and to the customer
through the conversation token (support:conversation-attachment, always a download).

A file is the sender's bytes under the sender's name and type, so it is never served as something the browser would
render in our origin (an HTML or SVG file would run its scripts as the desk): everything is a download of
application/octet-stream, except raster images, shown inline as their type. Every response has nosniff (the type is
taken as said) and a sandbox policy (nothing in it runs with our origin even if opened directly).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from ..models import Attachment
from .agent import visible_ticket

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DOWNLOAD_TYPE = "application/octet-stream"


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    ticket = visible_ticket(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_id, message__ticket=ticket)
    return attachment_response(attachment, inline_images=True)


def attachment_response(attachment: Attachment, *, inline_images: bool) -> FileResponse:
    """The file, under the content rules above (a raster image inline only when `inline_images`)."""
    try:
        stored = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("This file is no longer stored.") from None
    content_type = attachment.content_type.lower()
    inline = inline_images and content_type in INLINE_IMAGE_TYPES
    response = FileResponse(
        stored,
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=content_type if inline else DOWNLOAD_TYPE,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
