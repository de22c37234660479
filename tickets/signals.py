"""Signals the ticket services send inside their transaction, so other apps (surveys) can act atomically
without `tickets` importing them. Receivers must not swallow errors: an exception rolls the change back.

ticket_closed(sender=Ticket, ticket: Ticket)    — after a close is saved (not on an idempotent repeat)
ticket_reopened(sender=Ticket, ticket: Ticket)  — after a reopen is saved
ticket_moved(sender=Ticket, ticket: Ticket, old_queue_id: int)
                                                — after a move to another queue is saved (tickets.services.ticket_move)
customer_erased(sender=Customer, customer: Customer, ticket_ids: list[int], now: datetime)
                                                — after tickets erased its own part of a customer's personal data
                                                  (tickets.erasure): the customer row already holds the placeholders;
                                                  each app erases the personal data it keeps of them
"""

from django.dispatch import Signal

ticket_closed = Signal()
ticket_reopened = Signal()
ticket_moved = Signal()
customer_erased = Signal()
