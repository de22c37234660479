"""Settings of the surveys app (survey links, scanner bursts, feedback figures, follow-ups), imported by
helpdesk.settings.base."""

from .environment import env

# Surveys: the unsubscribe links of a survey email work this many days from the email (at least 60, whatever the
# survey's own expiry).
SURVEY_UNSUBSCRIBE_LINK_DAYS = env.int("SURVEY_UNSUBSCRIBE_LINK_DAYS", default=90)
# Surveys: several different scores within this many seconds are a link scanner, not a person.
SURVEY_BURST_SECONDS = env.int("SURVEY_BURST_SECONDS", default=10)
SURVEY_BURST_DISTINCT_SCORES = 3
# Feedback figures (CSAT %, CES, response rate) show "not enough responses" below this many responses.
FEEDBACK_MIN_SAMPLE = env.int("FEEDBACK_MIN_SAMPLE", default=10)
# Recovery follow-ups: the owner is reminded this long before the due time (once); overdue ones escalate once.
FOLLOWUP_REMIND_BEFORE_MINUTES = env.int("FOLLOWUP_REMIND_BEFORE_MINUTES", default=120)
# Re-surveys: "Did we make this right?" goes this many hours after a follow-up is resolved (if its policy asks).
RESURVEY_DELAY_HOURS = env.int("RESURVEY_DELAY_HOURS", default=24)
# NPS: the relationship survey waits until this many days after any CSAT or re-survey email to the customer.
NPS_QUIET_DAYS_AFTER_SURVEY = env.int("NPS_QUIET_DAYS_AFTER_SURVEY", default=14)
