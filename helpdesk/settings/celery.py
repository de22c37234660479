"""Celery: the broker, the worker's behaviour and beat's schedule, imported by helpdesk.settings.base."""

from .cache import REDIS_URL
from .environment import VAR_DIR, env
from .inbound import INBOUND_IMAP_POLL_SECONDS, INBOUND_SWEEP_SECONDS
from .outbox import OUTBOX_SWEEP_SECONDS
from .tickets import SLA_SWEEP_SECONDS
from .webhooks import WEBHOOK_SWEEP_SECONDS

# Celery: Redis when REDIS_URL is set, else a filesystem broker under var/celery/ (no services needed for `make run`).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="helpdesk")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
else:
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "data_folder_processed": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
        # Polled, not pushed: a short interval and timer tick let a warm shutdown (Ctrl-C in `make run`) end well
        # within honcho's 5 s before it SIGKILLs (the worker's loop waits out its poll and the timer its tick).
        "polling_interval": 0.1,
    }
    CELERY_WORKER_TIMER_PRECISION = 0.1


def beat_schedule(installed_apps: list[str]) -> dict[str, dict]:
    """The periodic tasks of the installed apps only (a task `<app>.tasks.<name>` belongs to <app>): beat never sends
    a task no worker knows. A settings module that changes INSTALLED_APPS recomputes CELERY_BEAT_SCHEDULE with it."""
    every_task = {
        "sweep-outbox": {"task": "outbox.tasks.sweep_outbox", "schedule": OUTBOX_SWEEP_SECONDS},
        "sweep-webhooks": {"task": "webhooks.tasks.sweep_webhooks", "schedule": WEBHOOK_SWEEP_SECONDS},
        "close-stale-pending-tickets": {"task": "tickets.tasks.close_stale_pending_tickets", "schedule": 300.0},
        "sweep-sla-alerts": {"task": "tickets.tasks.sweep_sla_alerts", "schedule": SLA_SWEEP_SECONDS},
        "erase-personal-data": {"task": "tickets.tasks.erase_personal_data_past_retention", "schedule": 3600.0},
        "send-due-survey-invitations": {"task": "surveys.tasks.send_due_invitations", "schedule": 15.0},
        "schedule-nps-surveys": {"task": "surveys.tasks.schedule_nps_surveys", "schedule": 3600.0},
        "settle-survey-responses": {"task": "surveys.tasks.settle_responses", "schedule": 60.0},
        "expire-and-remind-surveys": {"task": "surveys.tasks.expire_and_remind_invitations", "schedule": 600.0},
        "remind-and-escalate-followups": {"task": "surveys.tasks.remind_and_escalate_followups", "schedule": 300.0},
        "sweep-inbound": {"task": "inbound.tasks.sweep_inbound", "schedule": INBOUND_SWEEP_SECONDS},
        "poll-imap-mailboxes": {"task": "inbound.tasks.poll_imap_mailboxes", "schedule": INBOUND_IMAP_POLL_SECONDS},
        "score-unscored-texts": {"task": "sentiment.tasks.score_unscored", "schedule": 300.0},
        "flag-sentiment-spikes": {"task": "sentiment.tasks.flag_spikes", "schedule": 300.0},
    }
    return {name: entry for name, entry in every_task.items() if entry["task"].split(".")[0] in installed_apps}
