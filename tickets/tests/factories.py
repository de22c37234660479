import factory
from django.contrib.auth import get_user_model

from tickets.models import BusinessCalendar, Customer, Queue, QueueMembership, Ticket, WorkingHours


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")
    reply_from_email = factory.LazyAttribute(lambda q: f"{q.slug}@support.example.com")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueMembership

    queue = factory.SubFactory(QueueFactory)
    user = factory.SubFactory(UserFactory)
    role = QueueMembership.Role.AGENT


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.org")
    name = factory.Faker("name")


class TicketFactory(factory.django.DjangoModelFactory):
    """A bare ticket row. Tests of behaviour should create tickets with services.ticket_create instead."""

    class Meta:
        model = Ticket

    subject = factory.Faker("sentence", nb_words=5)
    queue = factory.SubFactory(QueueFactory)
    customer = factory.SubFactory(CustomerFactory)


class CalendarFactory(factory.django.DjangoModelFactory):
    """Mon–Fri 09:00–17:00 in the given time zone."""

    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "Europe/Berlin"

    @factory.post_generation
    def weekdays_9_to_5(self, create, extracted, **kwargs):
        if create and extracted is not False:
            for day in range(5):
                WorkingHours.objects.create(calendar=self, weekday=day, start="09:00", end="17:00")
