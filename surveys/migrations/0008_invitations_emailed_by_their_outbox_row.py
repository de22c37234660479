"""Invitations marked sent when their email was queued, whose outbox row was not sent: queued again while the row is
still queued or being sent (the outbox's outcome now marks them), not emailed with the row's error when it was
cancelled or failed. Answered invitations keep their status (their email arrived)."""

from django.db import migrations


def forward(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    OutgoingEmail = apps.get_model("outbox", "OutgoingEmail")
    SurveyInvitation = apps.get_model("surveys", "SurveyInvitation")
    invitation_type = ContentType.objects.filter(app_label="surveys", model="surveyinvitation").first()
    if invitation_type is None:
        return
    rows = OutgoingEmail.objects.filter(
        kind="survey", related_type=invitation_type, status__in=["queued", "sending", "cancelled", "failed"]
    ).values_list("related_id", "status", "last_error")
    for related_id, status, last_error in rows.iterator():
        invitation = SurveyInvitation.objects.filter(pk=related_id, status="sent")
        if status in ("queued", "sending"):
            invitation.update(status="queued", sent_at=None)
        else:
            invitation.update(status="not_emailed", sent_at=None, not_emailed_reason=(last_error or status)[:300])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("outbox", "0007_kind_from_registry"),
        ("surveys", "0007_invitation_queued_until_the_outbox_sends"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
