"""Dev mailbox, "write as a customer" (DEBUG only, like /dev/mail/): a form that builds a real MIME email and submits
it over SMTP to the mail gateway (`manage.py mail_gateway` at INBOUND_GATEWAY_HOST:INBOUND_GATEWAY_PORT), which
stores it and has Celery route it: the very path a customer's email takes, nothing simulated.

From an email the desk sent (/dev/mail/<name>/), "Reply as the customer" opens the form as a reply: to the email's
Reply-To (the ticket's reply address), with In-Reply-To and References naming it and its text quoted under an
"On …, … wrote:" line, so the reply exercises routing's trust rules and quote stripping.
"""

from __future__ import annotations

import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from outbox.devmail import body_of, read_mail, require_debug
from tickets.models import Queue

from .store import queue_for_recipient

GATEWAY_TIMEOUT_SECONDS = 10
single_line = RegexValidator(r"^[^\r\n]*\Z", "One line only.")


class CustomerEmailForm(forms.Form):
    from_name = forms.CharField(label="From name", required=False, max_length=200, validators=[single_line])
    from_email = forms.EmailField(label="From address")
    to = forms.CharField(label="To", max_length=254, widget=forms.Select)
    subject = forms.CharField(max_length=250, validators=[single_line])
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), max_length=100_000)
    in_reply_to = forms.CharField(required=False, max_length=998, widget=forms.HiddenInput, validators=[single_line])
    references = forms.CharField(required=False, max_length=8000, widget=forms.HiddenInput, validators=[single_line])

    def __init__(self, *args: Any, reply_address: str = "", **kwargs: Any) -> None:
        """`reply_address`: a To besides the queues' own addresses (a ticket's reply address, when replying)."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        choices = [
            (queue.reply_from_email, f"{queue.name} <{queue.reply_from_email}>") for queue in Queue.objects.all()
        ]
        if reply_address and reply_address not in dict(choices):
            choices.insert(0, (reply_address, f"{reply_address} (the ticket's reply address)"))
        self.fields["to"].widget.choices = choices

    def clean_to(self) -> str:
        to = self.cleaned_data["to"].strip()
        if queue_for_recipient(to) is None:
            raise forms.ValidationError("Not an address of one of the desk's queues.")
        return to


def customer_email_build(data: dict[str, str]) -> EmailMessage:
    """The email a customer's mail client would send, from the form's cleaned data."""
    message = EmailMessage()
    message["From"] = Address(display_name=data["from_name"], addr_spec=data["from_email"])
    message["To"] = data["to"]
    message["Subject"] = data["subject"]
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=data["from_email"].rpartition("@")[2])
    if data["in_reply_to"]:
        message["In-Reply-To"] = data["in_reply_to"]
    if data["references"]:
        message["References"] = data["references"]
    message.set_content(data["body"])
    return message


def gateway_submit(message: EmailMessage) -> None:
    """Hand the email to the mail gateway over SMTP (envelope from its From and To). Raises OSError or
    smtplib.SMTPException when the gateway is down or refuses it."""
    host, port = settings.INBOUND_GATEWAY_HOST, settings.INBOUND_GATEWAY_PORT
    with smtplib.SMTP(host, port, timeout=GATEWAY_TIMEOUT_SECONDS) as smtp:
        smtp.send_message(message)


def reply_initial(name: str) -> dict[str, str]:
    """The form's values for the customer's reply to the dev mailbox's email `name` (404 if there is none)."""
    original = read_mail(name)
    recipients = original["To"].addresses if original["To"] else ()
    reply_to = original["Reply-To"] or original["From"]
    subject = str(original["Subject"] or "")
    message_id = str(original["Message-ID"] or "")
    quoted = "\n".join(f"> {line}" if line else ">" for line in body_of(original, "plain").splitlines())
    return {
        "from_name": recipients[0].display_name if recipients else "",
        "from_email": recipients[0].addr_spec if recipients else "",
        "to": reply_to.addresses[0].addr_spec if reply_to and reply_to.addresses else "",
        "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}",
        "in_reply_to": message_id,
        "references": " ".join(part for part in (str(original["References"] or ""), message_id) if part),
        "body": f"\n\nOn {original['Date']}, {original['From']} wrote:\n{quoted}\n",
    }


@require_http_methods(["GET", "POST"])
def write(request: HttpRequest) -> HttpResponse:
    require_debug()
    status = 200
    if request.method == "POST":
        form = CustomerEmailForm(request.POST, reply_address=request.POST.get("to", ""))
        if form.is_valid():
            message = customer_email_build(form.cleaned_data)
            try:
                gateway_submit(message)
            except (OSError, smtplib.SMTPException) as error:
                form.add_error(
                    None,
                    f"The mail gateway at {settings.INBOUND_GATEWAY_HOST}:{settings.INBOUND_GATEWAY_PORT} did not take "
                    f"the email ({error}). Is `manage.py mail_gateway` running?",
                )
                status = 502
            else:
                messages.success(
                    request, f"Sent to the mail gateway as {message['Message-ID']}: stored, then routed by the worker."
                )
                return redirect("devmail")
        else:
            status = 400
    else:
        initial = reply_initial(request.GET["reply"]) if request.GET.get("reply") else {}
        form = CustomerEmailForm(initial=initial, reply_address=initial.get("to", ""))
    gateway = f"{settings.INBOUND_GATEWAY_HOST}:{settings.INBOUND_GATEWAY_PORT}"
    return render(request, "inbound/dev_write.html", {"form": form, "gateway": gateway}, status=status)
