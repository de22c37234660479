"""Forms parse input; the services in tickets.services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from common.users import UserLike, display_name

from .extensions import list_filters, reply_tools
from .models import TAG_NAME_MAX, CloseReason, Priority, Queue, Status, Ticket, TicketCC
from .saved_views import DEFAULT_VIEW
from .selectors import (
    TicketListFilters,
    assignable_agents,
    list_sorts,
    list_view_choices,
    queues_visible_to,
)
from .services import BulkAction, BulkValues, bulk_values
from .transitions import SETTABLE_STATUSES

_BLANK = [("", "Any")]


class QuickSelect(forms.Select):
    """A select whose options are written in Python rather than by a template include each: the list's filter and
    bulk forms have some sixty options on every list page, and Django's per-option include took a third of its
    render."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = [
            f'<option value="{escape(option["value"])}"{" selected" if option["selected"] else ""}>'
            f"{escape(option['label'])}</option>"
            for _group, choices, _index in widget["optgroups"]
            for option in choices
        ]
        html = f'<select name="{escape(name)}"{flatatt(widget["attrs"])}>{"".join(options)}</select>'
        return mark_safe(html)  # noqa: S308 - every value and label is escaped above, flatatt escapes the attributes


def quick_selects(form: forms.Form) -> None:
    """The form's plain selects written by QuickSelect (their choices, set later too, follow: a choice field hands
    its choices to its widget)."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            quick = QuickSelect(attrs=field.widget.attrs)
            quick.choices, quick.is_required = field.widget.choices, field.widget.is_required
            field.widget = quick


class Form(forms.Form):
    """Labels without the trailing colon; selects written quickly (the list and the ticket page render dozens)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        quick_selects(self)


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return display_name(obj)


class ChoiceSelect(forms.Select):
    """A select without an empty choice: it always has a value, so it is never marked required (asking would read a
    model choice field's rows a second time: Select.use_required_attribute looks at the first choice)."""

    def use_required_attribute(self, initial: Any) -> bool:
        return False


class DateInput(forms.DateInput):
    input_type = "date"


# --- the list ----------------------------------------------------------------------------------------------------


class TicketListForm(Form):
    """GET filters of the ticket list. Invalid values are ignored (a stale bookmark still shows a list)."""

    view = forms.ChoiceField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Subject, message text or HD-000123"}),
    )
    queue = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(choices=_BLANK + list(Status.choices), required=False)
    priority = forms.ChoiceField(choices=_BLANK + list(Priority.choices), required=False)
    assignee = forms.ChoiceField(required=False)
    customer = forms.CharField(
        label="Customer",
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"placeholder": "email or name"}),
    )
    tag = forms.CharField(
        label="Tag", required=False, max_length=TAG_NAME_MAX + 10, widget=forms.TextInput(attrs={"placeholder": "tag"})
    )
    created_from = forms.DateField(label="Created from", required=False, widget=DateInput)
    created_to = forms.DateField(label="Created until", required=False, widget=DateInput)
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: UserLike, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["view"].choices = list(list_view_choices().items())  # type: ignore[attr-defined]
        self.fields["sort"].choices = [(f"{d}{c}", f"{d}{c}") for c in list_sorts() for d in ("", "-")]  # type: ignore[attr-defined]
        for registered in list_filters():
            self.fields[registered.name] = registered.field()
        queues = queues_visible_to(user)
        # Read once as lists (one query each): the list's bulk form offers the same queues and agents.
        self.queue_choices = [(queue.pk, queue.name) for queue in queues]
        self.agent_choices = [(str(a.pk), display_name(a)) for a in assignable_agents(queue_ids=queues)]
        self.fields["queue"].choices = [("", "Any"), *self.queue_choices]  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [("", "Anyone"), ("none", "Unassigned"), ("me", "Me"), *self.agent_choices]  # type: ignore[attr-defined]
        quick_selects(self)  # the registered filters' selects too
        self.user = user

    def filters(self) -> TicketListFilters:
        self.is_valid()  # invalid fields are left out of cleaned_data, i.e. not filtered on
        data = self.cleaned_data
        assignee = data.get("assignee") or ""
        return TicketListFilters(
            view=data.get("view") or DEFAULT_VIEW,
            queue_id=data.get("queue"),
            status=data.get("status") or "",
            priority=data.get("priority") or "",
            unassigned=assignee == "none",
            assignee_id=self.user.pk if assignee == "me" else int(assignee) if assignee.isdigit() else None,
            customer=data.get("customer") or "",
            tag=" ".join((data.get("tag") or "").split()),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            search=data.get("q") or "",
            sort=data.get("sort") or "",
            extra={registered.name: data.get(registered.name) for registered in list_filters()},
        )

    def extension_fields(self) -> list[forms.BoundField]:
        """The registered filters' fields, in registration order (the list template renders them)."""
        return [self[registered.name] for registered in list_filters()]


# --- the detail page -----------------------------------------------------------------------------------------------


class TicketForm(Form):
    def __init__(self, *args: Any, ticket: Ticket, user: UserLike | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticket, self.user = ticket, user


# Submit as: the reply box's buttons — send only, or send and set the status / close in the same step.
REPLY_THEN = [
    ("", "Send reply"),
    ("pending", "Send and set pending"),
    ("on_hold", "Send and set on hold"),
    ("close:solved", "Send and close: solved"),
]


class ReplyForm(TicketForm):
    body = forms.CharField(label="Reply to the customer", widget=forms.Textarea(attrs={"rows": 5}), max_length=50_000)
    then = forms.ChoiceField(choices=REPLY_THEN, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for tool in reply_tools():  # the reply box's tools validate their own inputs with the reply
            if tool.fields is not None:
                self.fields.update(tool.fields())


class NoteForm(TicketForm):
    body = forms.CharField(
        label="Internal note (agents only)", widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )


class AssignForm(TicketForm):
    assignee = AgentChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"assignee": ticket.assignee_id})
        super().__init__(*args, ticket=ticket, **kwargs)
        self.fields["assignee"].queryset = assignable_agents(queue_ids=[ticket.queue_id])  # type: ignore[attr-defined]


class StatusForm(TicketForm):
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in SETTABLE_STATUSES])

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"status": ticket.status})
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket.status not in SETTABLE_STATUSES:  # e.g. new: shown as the current value, not choosable
            field = self.fields["status"]
            field.choices = [("", ticket.get_status_display()), *field.choices]  # type: ignore[attr-defined]


class PriorityForm(TicketForm):
    priority = forms.ChoiceField(choices=Priority.choices)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"priority": ticket.priority})
        super().__init__(*args, ticket=ticket, **kwargs)


class MoveForm(TicketForm):
    """Another queue for the ticket, among the queues the user works in (the service checks both queues again)."""

    queue = forms.ModelChoiceField(queryset=Queue.objects.none(), empty_label=None, widget=ChoiceSelect)

    def __init__(self, *args: Any, ticket: Ticket, user: UserLike | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"queue": ticket.queue_id})
        super().__init__(*args, ticket=ticket, user=user, **kwargs)
        queues = queues_visible_to(user) if user is not None else Queue.objects.none()
        self.fields["queue"].queryset = queues.order_by("name")  # type: ignore[attr-defined]


class CloseForm(TicketForm):
    reason = forms.ChoiceField(label="Close reason", choices=CloseReason.choices, initial=CloseReason.SOLVED)
    confirm = forms.BooleanField(
        label="Yes, close this ticket",
        error_messages={"required": "Tick the box to confirm closing the ticket."},
    )


class ReopenForm(TicketForm):
    pass


class CustomerEmailForm(TicketForm):
    email = forms.EmailField(label="The customer's correct address", max_length=254)


class CcAddForm(TicketForm):
    email = forms.EmailField(label="Copy an address", max_length=254)


class CcRemoveForm(TicketForm):
    cc = forms.ModelChoiceField(
        queryset=TicketCC.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That address is not copied on this ticket (any more)."},
    )

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        self.fields["cc"].queryset = ticket.ccs.all()  # type: ignore[attr-defined]


class TagAddForm(TicketForm):
    name = forms.CharField(label="Add a tag", max_length=TAG_NAME_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "tag_%s")
        super().__init__(*args, **kwargs)


class TagRemoveForm(TicketForm):
    name = forms.CharField(widget=forms.HiddenInput, max_length=TAG_NAME_MAX)


# --- new ticket (agent) ------------------------------------------------------------------------------------------


class NewTicketForm(Form):
    queue = forms.ModelChoiceField(queryset=Queue.objects.none())
    customer_email = forms.EmailField(label="Customer email")
    customer_name = forms.CharField(label="Customer name", required=False, max_length=200)
    subject = forms.CharField(max_length=250)
    body = forms.CharField(label="Message from the customer", widget=forms.Textarea(attrs={"rows": 6}))
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    assignee = AgentChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")

    def __init__(self, *args: Any, user: UserLike, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queues = queues_visible_to(user)
        self.fields["queue"].queryset = queues  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = assignable_agents(queue_ids=queues)  # type: ignore[attr-defined]
        self.fields["assignee"].help_text = "Must be a member of the chosen queue."


# --- customer side -----------------------------------------------------------------------------------------------


class RequestForm(Form):
    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="Your email")
    queue = forms.ModelChoiceField(label="Topic", queryset=Queue.objects.all(), empty_label="Choose a topic")
    subject = forms.CharField(max_length=250)
    message = forms.CharField(label="How can we help?", widget=forms.Textarea(attrs={"rows": 6}), max_length=50_000)


class CustomerReplyForm(Form):
    body = forms.CharField(label="Your reply", widget=forms.Textarea(attrs={"rows": 5}), max_length=50_000)


# --- the list's bulk actions ---------------------------------------------------------------------------------------


class TicketIdsField(forms.Field):
    """The ticket ids the list's checkboxes post (`ids`, repeated). How many is the service's to refuse (BULK_MAX)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Select at least one ticket.", "invalid": "Unknown ticket ids."}

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        if not all(str(item).isdigit() for item in values):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return [int(item) for item in values]


class BulkForm(Form):
    """One action for the tickets checked on the list page. Rendered with the list form's queue and agent choices
    (no queries of its own); on the POST the choices are read again for the user."""

    ids = TicketIdsField()
    action = forms.ChoiceField(
        label="With the selected tickets", choices=[("", "Choose an action"), *BulkAction.choices]
    )
    assignee = forms.ChoiceField(label="Assign to", required=False)
    status = forms.ChoiceField(
        label="Set status to", choices=[(s.value, s.label) for s in SETTABLE_STATUSES], required=False
    )
    priority = forms.ChoiceField(label="Set priority to", choices=Priority.choices, required=False)
    queue = forms.TypedChoiceField(label="Move to queue", coerce=int, required=False, empty_value=None)
    tag = forms.CharField(label="Tag name", max_length=TAG_NAME_MAX, required=False)
    reason = forms.ChoiceField(label="Close reason", choices=CloseReason.choices, required=False)
    back = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)  # the list's query string

    def __init__(
        self,
        *args: Any,
        user: UserLike,
        queue_choices: list[tuple[int, str]] | None = None,
        agent_choices: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        queues = queues_visible_to(user)
        if queue_choices is None:
            queue_choices = [(queue.pk, queue.name) for queue in queues]
        if agent_choices is None:
            agent_choices = [(str(a.pk), display_name(a)) for a in assignable_agents(queue_ids=queues)]
        self.fields["queue"].choices = queue_choices  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [("", "Unassigned"), *agent_choices]  # type: ignore[attr-defined]
        self.queues = queues

    def values(self) -> BulkValues:
        data = self.cleaned_data
        assignee = User.objects.get(pk=data["assignee"]) if data.get("assignee") else None
        queue = self.queues.get(pk=data["queue"]) if data.get("queue") else None
        return bulk_values(**{**data, "assignee": assignee, "queue": queue})
