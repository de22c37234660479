# Survey state moves out of the tickets schema into tables surveys owns: the ticket's latest rating (TicketRating)
# and the customer's opt-out (SurveyOptOut). The rows are copied here, before tickets 0008 drops the old columns.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

BATCH = 2000


def copy_from_tickets(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Customer = apps.get_model("tickets", "Customer")
    TicketRating = apps.get_model("surveys", "TicketRating")
    SurveyOptOut = apps.get_model("surveys", "SurveyOptOut")
    rated = (
        Ticket.objects.filter(models.Q(last_csat__isnull=False) | models.Q(last_ces__isnull=False) | models.Q(rated_poor=True))
        .order_by("pk")
        .values_list("pk", "queue_id", "last_csat", "last_ces", "rated_poor")
    )
    # When it was rated: the latest change of the ticket's latest answered survey (tickets kept no time).
    Response = apps.get_model("surveys", "SurveyResponse")
    rated_at = dict(
        Response.objects.order_by("invitation__ticket_id", "invitation__round").values_list(
            "invitation__ticket_id", "updated_at"
        )
    )
    batch = []
    for ticket_id, queue_id, csat, ces, poor in rated.iterator(chunk_size=BATCH):
        at = rated_at.get(ticket_id) or django.utils.timezone.now()
        batch.append(TicketRating(ticket_id=ticket_id, queue_id=queue_id, csat=csat, ces=ces, poor=poor, rated_at=at))
        if len(batch) == BATCH:
            TicketRating.objects.bulk_create(batch)
            batch = []
    TicketRating.objects.bulk_create(batch)
    SurveyOptOut.objects.bulk_create(
        SurveyOptOut(customer_id=customer_id, opted_out_at=at)
        for customer_id, at in Customer.objects.filter(surveys_opted_out_at__isnull=False).values_list(
            "pk", "surveys_opted_out_at"
        )
    )


def copy_back_to_tickets(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Customer = apps.get_model("tickets", "Customer")
    TicketRating = apps.get_model("surveys", "TicketRating")
    SurveyOptOut = apps.get_model("surveys", "SurveyOptOut")
    for rating in TicketRating.objects.iterator(chunk_size=BATCH):
        Ticket.objects.filter(pk=rating.ticket_id).update(
            last_csat=rating.csat, last_ces=rating.ces, rated_poor=rating.poor
        )
    for opt_out in SurveyOptOut.objects.all():
        Customer.objects.filter(pk=opt_out.customer_id).update(surveys_opted_out_at=opt_out.opted_out_at)


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0003_invitation_answer_copy"),
        ("tickets", "0007_access_token_moved_to_common"),
    ]
    run_before = [("tickets", "0008_survey_columns_moved_to_surveys")]

    operations = [
        migrations.CreateModel(
            name="SurveyOptOut",
            fields=[
                (
                    "customer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="survey_opt_out",
                        serialize=False,
                        to="tickets.customer",
                    ),
                ),
                ("opted_out_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"verbose_name": "survey opt-out"},
        ),
        migrations.CreateModel(
            name="TicketRating",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="survey_rating",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                (
                    "queue",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.queue",
                    ),
                ),
                ("csat", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("ces", models.PositiveSmallIntegerField(blank=True, null=True)),
                (
                    "poor",
                    models.BooleanField(
                        default=False, help_text="The latest answer is at or below its policy's poor threshold."
                    ),
                ),
                ("rated_at", models.DateTimeField(help_text="When the latest answer was given or changed.")),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("poor", True)),
                        fields=["queue", "-rated_at", "ticket"],
                        name="rating_poor_queue",
                    )
                ],
            },
        ),
        migrations.RunPython(copy_from_tickets, copy_back_to_tickets),
    ]
