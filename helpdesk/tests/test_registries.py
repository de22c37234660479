"""Issue 17, done when: the lower apps never name an email kind, webhook event or ticket event kind of an app above
them, and a kind registered by another app is sent through the outbox with no migration in outbox/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from outbox.kinds import EmailKind, RenderedEmail, email_kinds
from outbox.models import OutgoingEmail
from outbox.services import email_spec_enqueue, outbox_claim_due, outbox_send
from tickets.event_kinds import ticket_event_kinds
from webhooks.events import webhook_events

ROOT = Path(settings.BASE_DIR)
# The layers, bottom up (README "Architecture"): an app may name only the keys of its own layer or those below.
LAYER = {"common": 0, "outbox": 1, "webhooks": 1, "tickets": 2, "surveys": 3, "inbound": 3}
LAYER |= {"sentiment": 4, "customers": 5, "demo": 6, "helpdesk": 7}
LOWER_APPS = ["common", "outbox", "webhooks", "tickets"]


def _sources(app: str) -> dict[Path, str]:
    """The app's own code and templates: no tests, no migrations (a migration may name what an app once listed)."""
    files = [
        path
        for path in (ROOT / app).rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(ROOT / app).parts)
    ]
    files += list((ROOT / "templates" / app).rglob("*")) if (ROOT / "templates" / app).is_dir() else []
    return {path: path.read_text() for path in files if path.is_file()}


def _registered_above(app: str) -> dict[str, str]:
    """key → registering app, of every registered key an app above `app` owns (ticket event kinds only for the app
    that keeps them and those above: the apps below tickets cannot record a ticket event at all)."""
    entries = [*email_kinds, *webhook_events]
    entries += list(ticket_event_kinds) if LAYER[app] >= LAYER["tickets"] else []
    return {entry.key: entry.app_label for entry in entries if LAYER[entry.app_label] > LAYER[app]}


def test_the_registries_are_filled_by_the_apps_that_own_the_keys():
    owners = {entry.key: entry.app_label for entry in [*email_kinds, *webhook_events, *ticket_event_kinds]}

    assert owners["survey"] == owners["followup_escalation"] == owners["survey.answered"] == "surveys"
    assert owners["sla_breach"] == owners["reply_notification"] == owners["erased"] == "tickets"
    assert owners["password_reset"] == owners["system"] == "outbox"


@pytest.mark.parametrize("app", LOWER_APPS)
def test_no_lower_app_names_a_key_registered_by_an_app_above_it(app):
    above = _registered_above(app)
    assert {"survey", "survey.answered"} <= set(above)  # the check is not empty
    named = [
        f"{path.relative_to(ROOT)}: {key!r} (registered by {owner})"
        for path, text in _sources(app).items()
        for key, owner in above.items()
        if re.search(rf"""["']{re.escape(key)}["']""", text)
    ]
    assert named == []


@pytest.mark.django_db
def test_an_upper_apps_kind_is_sent_through_the_outbox_with_no_migration_in_it(monkeypatch, mailoutbox, admin_user):
    # given a kind registered by an app above the outbox (a test module here), rendered when it is sent
    def render(spec: dict) -> RenderedEmail:
        return RenderedEmail(to="ada@example.org", subject=f"Your score {spec['score']}", text="Thanks")

    kind = EmailKind(key="test_nps", label="NPS", app_label="helpdesk", max_age=timedelta(hours=1), render=render)
    monkeypatch.setitem(email_kinds._entries, kind.key, kind)

    # when one is queued, swept and sent
    email = email_spec_enqueue(kind="test_nps", to="ada@example.org", spec={"score": 9}, related=admin_user)
    token, ids = outbox_claim_due()
    assert outbox_send(email_ids=ids, claim_token=token) == 1

    # then it went out, and the outbox's models need no migration for it
    assert [(message.subject, message.to) for message in mailoutbox] == [("Your score 9", ["ada@example.org"])]
    email.refresh_from_db()
    assert (email.status, email.kind_label) == (OutgoingEmail.Status.SENT, "NPS")
    assert email.expires_at == email.next_attempt_at + timedelta(hours=1)
    call_command("makemigrations", "outbox", check=True, dry_run=True, verbosity=0)  # SystemExit if one were needed
