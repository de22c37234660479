from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from tickets.forms import AgentChoiceField

from .models import (
    CES_CHOICES,
    CES_QUESTION,
    CSAT_CHOICES,
    CSAT_QUESTION,
    NPS_QUESTION,
    NPS_REASON_QUESTION,
    NPS_SCORES,
    RESURVEY_CHOICES,
    RESURVEY_QUESTION,
    FollowUp,
    SurveyResponse,
)
from .selectors import followup_assignees


class SurveyAnswerForm(forms.Form):
    csat = forms.TypedChoiceField(
        label=CSAT_QUESTION,
        choices=CSAT_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    ces = forms.TypedChoiceField(
        label=CES_QUESTION,
        choices=CES_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Anything you would like to add? (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    via = forms.ChoiceField(
        choices=SurveyResponse.Via.choices, initial=SurveyResponse.Via.PERSON, widget=forms.HiddenInput
    )


class ResurveyAnswerForm(forms.Form):
    score = forms.TypedChoiceField(
        label=RESURVEY_QUESTION, choices=RESURVEY_CHOICES, coerce=int, empty_value=None, widget=forms.RadioSelect
    )


class NpsAnswerForm(forms.Form):
    score = forms.TypedChoiceField(
        label=NPS_QUESTION,
        choices=[(score, str(score)) for score in NPS_SCORES],
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=NPS_REASON_QUESTION + " (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    via = forms.ChoiceField(
        choices=SurveyResponse.Via.choices, initial=SurveyResponse.Via.PERSON, widget=forms.HiddenInput
    )


# --- agent pages --------------------------------------------------------------------------------------------------

PERIOD_CHOICES = [("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"), ("custom", "Custom")]
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive
    label: str


class PeriodForm(forms.Form):
    """?period=7|30|90 or ?period=custom&from=YYYY-MM-DD&to=YYYY-MM-DD (both dates included)."""

    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, initial="90")
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def add_prefix(self, field_name: str) -> str:
        # The URL says from/to ("from" is a Python keyword, so the fields are start/end).
        return {"start": "from", "end": "to"}.get(field_name, field_name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period = data.get("period") or ""
        start, end = data.get("start"), data.get("end")
        if (start or end) and not period:
            period = data["period"] = "custom"
        if period == "custom":
            if not start or not end:
                raise forms.ValidationError("Choose both a start and an end date.")
            if start > end:
                raise forms.ValidationError("The start date must be on or before the end date.")
            if (end - start).days >= MAX_PERIOD_DAYS:
                raise forms.ValidationError(f"Choose a period of at most {MAX_PERIOD_DAYS} days.")
            if start > timezone.localdate():
                raise forms.ValidationError("The start date is in the future.")
        return data

    def period_or_default(self, *, now: datetime | None = None) -> Period:
        """The chosen period, or the last 90 days (enough responses for most agents) when unbound or invalid."""
        now = now or timezone.now()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        choice = data.get("period") or "90"
        if choice == "custom":
            start_date, end_date = data["start"], data["end"]
            zone = timezone.get_current_timezone()
            return Period(
                start=datetime.combine(start_date, time.min, tzinfo=zone),
                end=datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=zone),
                label=f"{start_date:%d %b %Y} – {end_date:%d %b %Y}",
            )
        days = int(choice)
        return Period(start=now - timedelta(days=days), end=now, label=f"Last {days} days")


class ContactedForm(forms.Form):
    note = forms.CharField(
        label="What did you and the customer agree?", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResolveForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), help_text="What put it right?"
    )
    root_cause = forms.ChoiceField(
        label="Root cause", choices=[("", "Choose a root cause…"), *FollowUp.RootCause.choices]
    )


class UnreachableForm(forms.Form):
    note = forms.CharField(
        label="How did you try to reach the customer?", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReassignForm(forms.Form):
    owner = AgentChoiceField(
        label="New owner", queryset=User.objects.none(), required=False, empty_label="Unassigned (team)"
    )

    def __init__(self, *args: Any, followup: FollowUp, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = followup_assignees(followup=followup)
        self.initial.setdefault("owner", followup.owner_id)
