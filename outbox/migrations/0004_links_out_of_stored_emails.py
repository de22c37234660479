"""Credentials out of the stored emails of a deployed database, losing no email.

Before 0002 every row was stored rendered: survey, reminder, reply-notification and confirmation rows held their
customer links (raw tokens) in their bodies and the List-Unsubscribe header, and Django's own mail its reset links.

- Rows of those four kinds that name their related object become render specs (the ids their renderers get, as the
  apps queue them now: the invitation, the message, the ticket) and lose their bodies and headers. A queued one is
  then rendered when it is sent, with fresh links; a failed one can be retried the same way; a sent one keeps its
  subject, sender, recipient and dates.
- Such a row without its related object keeps its body if it is still to be sent, marked `secret_body` (sent as
  stored, then erased); otherwise its body is erased.
- Django's own mail (kind `system`) is marked `secret_body`; its body is erased where it will not be sent any more.

Not reversible in content (the erased bodies are gone); migrating back leaves the rows as they are.
"""

from django.db import migrations

SPEC_KEYS = {  # kind → the key of the related object's id in its render spec
    "survey": "invitation_id",
    "survey_reminder": "invitation_id",
    "reply_notification": "message_id",
    "confirmation": "ticket_id",
}
UNSENT = ("queued", "sending")
BATCH = 500
ERASED = {"body_text": "", "body_html": "", "headers": {}}


def links_out(apps, schema_editor):
    OutgoingEmail = apps.get_model("outbox", "OutgoingEmail")
    with_links = OutgoingEmail.objects.filter(kind__in=SPEC_KEYS, render_spec__isnull=True)
    rows = list(with_links.exclude(related_id=None).values_list("pk", "kind", "related_id"))
    for start in range(0, len(rows), BATCH):
        specs = [
            OutgoingEmail(pk=pk, render_spec={SPEC_KEYS[kind]: related_id}, **ERASED)
            for pk, kind, related_id in rows[start : start + BATCH]
        ]
        OutgoingEmail.objects.bulk_update(specs, ["render_spec", *ERASED])
    orphans = with_links.filter(related_id=None)
    orphans.filter(status__in=UNSENT).update(secret_body=True)
    orphans.exclude(status__in=UNSENT).update(**ERASED)
    system = OutgoingEmail.objects.filter(kind="system")
    system.update(secret_body=True)
    system.exclude(status__in=UNSENT).update(**ERASED)


class Migration(migrations.Migration):
    dependencies = [("outbox", "0003_render_spec_and_secret_body")]

    operations = [migrations.RunPython(links_out, migrations.RunPython.noop)]
