"""The email kind registry: a row of a kind no app registers any more is shown as such and left alone by the sweep."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from outbox.kinds import email_kind_register, email_kinds
from outbox.models import OutgoingEmail
from outbox.services import email_enqueue, email_spec_enqueue, outbox_claim_due

pytestmark = pytest.mark.django_db
Status = OutgoingEmail.Status


def orphan(**fields) -> OutgoingEmail:
    """A row of a kind whose app was removed (no service queues one: it was queued while the app was installed)."""
    return OutgoingEmail.objects.create(
        kind="gone_app_digest", to_email="ada@example.org", subject="Digest", body_text="x", **fields
    )


def test_an_unregistered_kind_is_refused_when_queued():
    with pytest.raises(ValueError, match="not a registered email kind"):
        email_enqueue(kind="nobody_registered_me", to="ada@example.org", subject="Hi", text="x")


def test_a_kind_without_a_renderer_cannot_be_queued_as_a_render_spec(admin_user):
    with pytest.raises(ValueError, match="no renderer"):
        email_spec_enqueue(kind="system", to="ada@example.org", spec={}, related=admin_user)


def test_a_key_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        email_kind_register(app="outbox", key="system", label="Another system", max_age=None)


def test_the_sweep_never_claims_a_row_of_an_unregistered_kind_and_says_so(caplog):
    stale = orphan()
    known = email_enqueue(kind="system", to="bob@example.org", subject="Hi", text="x")

    with caplog.at_level(logging.WARNING, logger="outbox.services"):
        _token, ids = outbox_claim_due()

    assert ids == [known.pk]
    stale.refresh_from_db()
    assert (stale.status, stale.attempts) == (Status.QUEUED, 0)  # left queued: its app may come back
    assert "unregistered kinds left queued, not claimed: gone_app_digest" in caplog.text


def test_a_row_of_an_unregistered_kind_fails_as_expired_once_past_its_expiry():
    stale = orphan(expires_at=timezone.now() + timedelta(hours=1))

    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        outbox_claim_due()

    stale.refresh_from_db()
    assert stale.status == Status.FAILED
    assert stale.last_error.startswith("Expired")


def test_the_admin_and_the_status_page_list_the_registered_kinds_and_name_an_unknown_one(admin_client):
    stale = orphan(status=Status.FAILED)

    changelist = admin_client.get(reverse("admin:outbox_outgoingemail_changelist")).content.decode()
    detail = admin_client.get(reverse("admin:outbox_outgoingemail_change", args=[stale.pk])).content.decode()
    status = admin_client.get(reverse("admin-status")).content.decode()
    filtered = admin_client.get(reverse("admin:outbox_outgoingemail_changelist") + "?kind=gone_app_digest")

    for page in (changelist, detail, status):
        assert "unknown email kind (gone_app_digest)" in page
    for kind in email_kinds:  # the filter and the status page offer every registered kind
        assert kind.label in changelist
        assert kind.label in status
    assert list(filtered.context["cl"].queryset) == [stale]
