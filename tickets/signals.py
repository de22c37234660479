"""Signals the ticket services send inside their transaction, so other apps (surveys) can act atomically
without `tickets` importing them. Receivers must not swallow errors: an exception rolls the change back.

ticket_closed(sender=Ticket, ticket: Ticket)    — after a close is saved (not on an idempotent repeat)
ticket_reopened(sender=Ticket, ticket: Ticket)  — after a reopen is saved
"""

from django.dispatch import Signal

ticket_closed = Signal()
ticket_reopened = Signal()
