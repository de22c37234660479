"""Settings of the sentiment app (sentiment/), imported by helpdesk.settings.base."""

from .environment import env

# The live panel of the team dashboard refreshes this often (htmx polling of its partial).
SENTIMENT_LIVE_REFRESH_SECONDS = env.int("SENTIMENT_LIVE_REFRESH_SECONDS", default=30)
# Spikes (beat, every 5 minutes): a queue whose negative share over the last hour is at least this ratio × its 30-day
# baseline, with at least this many texts scored in the hour, is flagged; its leads get one email per hour at most.
SENTIMENT_SPIKE_RATIO = env.float("SENTIMENT_SPIKE_RATIO", default=2.0)
SENTIMENT_SPIKE_MIN_MESSAGES = env.int("SENTIMENT_SPIKE_MIN_MESSAGES", default=10)
# Mixed signals: a good score (CSAT 4–5, or CES 5–7 without CSAT) whose comment scores at or below this opens a
# recovery follow-up (the queue's sentiment policy can switch it off).
SENTIMENT_MIXED_SIGNAL_SCORE = env.float("SENTIMENT_MIXED_SIGNAL_SCORE", default=-0.5)
# The recovery sweep (beat, every 5 minutes) scores texts of the last this many days that have no score yet (the
# broker was down when they were written, or a worker died).
SENTIMENT_SWEEP_DAYS = env.int("SENTIMENT_SWEEP_DAYS", default=2)
