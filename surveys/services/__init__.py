"""Every write of the surveys app, one module per job: policies, scheduling (close/reopen hooks), sending (survey
emails, reminders, expiry), answers (submission and the answer's copies), settling (poor answer → follow-up),
optout, followups (the agents' follow-up actions, reminders, escalations), resurveys, nps (the relationship
survey), webhook_events, erasure (a customer's survey data, on tickets' customer_erased).
`from surveys.services import …` works for the names below."""

from .answers import answer_copies_write, rating_queue_follow, response_submit
from .erasure import customer_survey_data_erase
from .followups import (
    followup_escalate,
    followup_mark_contacted,
    followup_mark_unreachable,
    followup_reassign,
    followup_remind,
    followup_resolve,
    followups_escalate_due,
    followups_queue_follow,
    followups_remind_due,
)
from .nps import (
    nps_answer,
    nps_answers_settle_due,
    nps_email_outcomes,
    nps_expire,
    nps_schedule_due,
    nps_send_due,
)
from .optout import customer_opt_out
from .policies import survey_policy_get_or_create
from .resurveys import (
    resurvey_answer,
    resurvey_email_outcomes,
    resurvey_schedule,
    resurveys_expire,
    resurveys_send_due,
)
from .scheduling import invitation_cancel_unsent, invitation_schedule_for_close
from .sending import (
    invitation_remind,
    invitation_send,
    invitations_expire,
    invitations_remind_due,
    invitations_send_due,
)
from .settling import followup_open, followup_owner_id, nps_followup_open, response_act_on, responses_settle_due

__all__ = [
    "answer_copies_write",
    "customer_opt_out",
    "customer_survey_data_erase",
    "followup_escalate",
    "followup_mark_contacted",
    "followup_mark_unreachable",
    "followup_open",
    "followup_owner_id",
    "followup_reassign",
    "followup_remind",
    "followup_resolve",
    "followups_escalate_due",
    "followups_queue_follow",
    "followups_remind_due",
    "invitation_cancel_unsent",
    "invitation_remind",
    "invitation_schedule_for_close",
    "invitation_send",
    "invitations_expire",
    "invitations_remind_due",
    "invitations_send_due",
    "nps_answer",
    "nps_answers_settle_due",
    "nps_email_outcomes",
    "nps_expire",
    "nps_followup_open",
    "nps_schedule_due",
    "nps_send_due",
    "rating_queue_follow",
    "response_act_on",
    "response_submit",
    "responses_settle_due",
    "resurvey_answer",
    "resurvey_email_outcomes",
    "resurvey_schedule",
    "resurveys_expire",
    "resurveys_send_due",
    "survey_policy_get_or_create",
]
