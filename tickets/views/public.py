"""Customer pages, no login: submit a request, and the conversation page whose link token is the credential."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError
from common.ratelimit import public_rate_limit
from common.tokens import token_resolve

from ..extensions import request_form_blocks
from ..forms import CustomerReplyForm, RequestForm
from ..models import CONVERSATION_LINK_PURPOSE, Attachment, Message, Ticket
from ..selectors import ticket_thread
from ..services import message_add, request_submit
from .attachments import attachment_response


@public_rate_limit
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            request_submit(
                queue=data["queue"],
                email=data["email"],
                name=data["name"],
                subject=data["subject"],
                body=data["message"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            return redirect("support:thanks")
    blocks = [render_to_string(block.template, block.context(form), request=request) for block in request_form_blocks()]
    context = {"form": form, "subject_blocks": blocks}
    return render(request, "tickets/public/request_new.html", context, status=400 if form.errors else 200)


@public_rate_limit
@require_GET
def request_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/public/request_thanks.html")


def _conversation_ticket(token: str) -> Ticket | None:
    pk = token_resolve(raw=token, purpose=CONVERSATION_LINK_PURPOSE)
    if pk is None:
        return None
    return Ticket.objects.select_related("queue", "customer").filter(pk=pk).first()


@public_rate_limit
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _conversation_ticket(token)
    if ticket is None:
        return render(request, "tickets/public/link_invalid.html", status=404)
    form = CustomerReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message_add(
                ticket_id=ticket.pk,
                kind=Message.Kind.CUSTOMER_MESSAGE,
                body=form.cleaned_data["body"],
                customer=ticket.customer,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Thank you, your reply was added to the conversation.")
            return redirect("support:conversation", token=token)
    context = {"ticket": ticket, "thread": ticket_thread(ticket=ticket, public_only=True), "form": form, "token": token}
    return render(request, "tickets/public/conversation.html", context, status=400 if form.errors else 200)


@public_rate_limit
@require_GET
def conversation_attachment(request: HttpRequest, token: str, attachment_id: int) -> FileResponse:
    """A file of the customer's messages or of a public reply on the token's ticket (never a note's), as a download."""
    ticket = _conversation_ticket(token)
    if ticket is None:
        raise Http404("This link is not valid.")
    attachment = get_object_or_404(
        Attachment.objects.exclude(message__kind=Message.Kind.INTERNAL_NOTE), pk=attachment_id, message__ticket=ticket
    )
    return attachment_response(attachment, inline_images=False)
