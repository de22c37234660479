"""Recovery follow-ups: mine, the team's, one follow-up with its history and the action forms (POST + CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.users import signed_in_user

from ..forms import ContactedForm, ReassignForm, ResolveForm, UnreachableForm
from ..models import FollowUp
from ..selectors import DUE_SOON, followups_for_owner, followups_for_team, followups_visible_to, user_is_lead
from ..services import followup_mark_contacted, followup_mark_unreachable, followup_reassign, followup_resolve

PAGE_SIZE = 50


def _list(request: HttpRequest, followups: QuerySet[FollowUp], *, title: str, team: bool) -> HttpResponse:
    page = Paginator(followups, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = {
        "page": page,
        "followups": page.object_list,
        "title": title,
        "team": team,
        "now": now,
        "soon": now + DUE_SOON,
        "is_lead": user_is_lead(request.user),
    }
    return render(request, "surveys/agent/followup_list.html", context)


@require_GET
@login_required
def my_followups(request: HttpRequest) -> HttpResponse:
    return _list(request, followups_for_owner(user=request.user), title="My follow-ups", team=False)


@require_GET
@login_required
def team_followups(request: HttpRequest) -> HttpResponse:
    """Leads and admins: every open follow-up of their queues; agents: the unassigned ones of their queues."""
    return _list(request, followups_for_team(user=request.user), title="Team follow-ups", team=True)


def _followup(request: HttpRequest, pk: int) -> FollowUp:
    """The follow-up if the user may see it, else 404 (never 403: the id's existence is not revealed)."""
    return get_object_or_404(
        followups_visible_to(request.user).select_related(
            "ticket", "customer", "queue", "owner", "invitation__response", "invitation__agent", "nps_survey"
        ),
        pk=pk,
    )


def _detail(request: HttpRequest, followup: FollowUp, *, bound: dict[str, forms.Form] | None = None) -> HttpResponse:
    now = timezone.now()
    context: dict[str, Any] = {
        "followup": followup,
        "response": getattr(followup.invitation, "response", None),
        "events": followup.events.select_related("actor"),
        "is_open": followup.status in (FollowUp.Status.OPEN, FollowUp.Status.CONTACTED),
        "now": now,
        "soon": now + DUE_SOON,
        "contacted_form": ContactedForm(),
        "resolve_form": ResolveForm(),
        "unreachable_form": UnreachableForm(),
        "reassign_form": ReassignForm(followup=followup),
    }
    context.update(bound or {})
    # An action refused on a closed follow-up has no form on the page any more: show its error at the top.
    context["action_errors"] = [error for form in (bound or {}).values() for error in form.non_field_errors()]
    return render(request, "surveys/agent/followup_detail.html", context, status=400 if bound else 200)


@require_GET
@login_required
def followup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _followup(request, pk))


Perform = Callable[[FollowUp, dict[str, Any], User], FollowUp]


@dataclass(frozen=True)
class Action:
    """A follow-up action: its form (bound to the follow-up when `form_takes_followup`), shown as `form_name` in the
    page, the one service `perform` calls, and the flash message of its success."""

    form_class: Callable[..., forms.Form]
    form_name: str
    perform: Perform
    done: str
    form_takes_followup: bool = False


ACTIONS: dict[str, Action] = {  # URL followups/<pk>/<key>/, named followup-<key>
    "contacted": Action(
        ContactedForm,
        "contacted_form",
        lambda f, data, by: followup_mark_contacted(followup_id=f.pk, by=by, note=data["note"]),
        "Marked as contacted.",
    ),
    "resolve": Action(
        ResolveForm,
        "resolve_form",
        lambda f, data, by: followup_resolve(
            followup_id=f.pk, by=by, outcome=data["outcome"], root_cause=data["root_cause"]
        ),
        "Follow-up resolved.",
    ),
    "unreachable": Action(
        UnreachableForm,
        "unreachable_form",
        lambda f, data, by: followup_mark_unreachable(followup_id=f.pk, by=by, note=data["note"]),
        "Marked as unreachable.",
    ),
    "reassign": Action(
        ReassignForm,
        "reassign_form",
        lambda f, data, by: followup_reassign(followup_id=f.pk, by=by, owner=data["owner"]),
        "Follow-up reassigned.",
        form_takes_followup=True,
    ),
}


@require_POST
@login_required
def followup_act(request: HttpRequest, pk: int, action: Action) -> HttpResponse:
    """One of ACTIONS on the follow-up (routed by surveys.urls for each): PRG on success, the page with the bound
    form (400) otherwise."""
    followup = _followup(request, pk)
    form_kwargs = {"followup": followup} if action.form_takes_followup else {}
    form = action.form_class(request.POST, **form_kwargs)
    if form.is_valid():
        try:
            action.perform(followup, form.cleaned_data, signed_in_user(request))
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, action.done)
            return redirect("surveys:followup-detail", pk=followup.pk)
    followup.refresh_from_db()
    return _detail(request, followup, bound={action.form_name: form})
