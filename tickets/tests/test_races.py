"""Races of the ticket services on Postgres: real transactions at once, each in a thread with its own connection
(conftest.run_queued_behind makes each race certain). Skipped on SQLite, which runs one write transaction at a time."""

from conftest import run_queued_behind
from tickets.models import Customer, Queue, Ticket
from tickets.services import request_submit


def test_two_first_requests_from_one_new_email_at_once_share_one_customer(postgres_race, queue):
    def submit() -> None:
        request_submit(queue=queue, email="New.Person@example.org", name="New Person", subject="Hi", body="Help")

    def hold() -> None:
        # Holds each request at its ticket's insert (the queue's foreign key check): the first has inserted the
        # customer, the second waits on that insert; both looked the address up before either committed.
        Queue.objects.select_for_update().get(pk=queue.pk)

    errors = run_queued_behind(hold, submit, submit)

    assert errors == []  # before: IntegrityError (unique_customer_email_ci) in the second, a 500 on the form
    customer = Customer.objects.get()
    assert Ticket.objects.filter(customer=customer).count() == 2
