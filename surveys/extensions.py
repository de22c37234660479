"""Extension points of the surveys pages: what the apps above surveys add to them without surveys knowing those apps
(the way tickets.extensions does for the ticket pages).

- TeamPanel: a card of the team dashboard (leads and admins), under the queues' figures: its template and a context
  function given the user, the queues the dashboard shows and its period (surveys.forms.Period: start, end, label).
  It is rendered with the page's request, in registration order; nothing registered, nothing shown. Keep its reads
  to a query or two: the dashboard keeps a query budget.
- FeedbackFigure: a figure in the row of CSAT and CES figures of the feedback pages (My feedback, a lead's view of
  an agent) and the team dashboard: its template (a `div.stat`) and a context function given the invitations the
  page counts and its period. One query at most.
- CommentFilter: a filter of those pages' comment lists ("Latest comments"): its query parameter, the choices shown
  beside "All", how a chosen value narrows the commented responses, and a badge of each listed comment (escaped
  HTML, read through the `select_related` it names, so the list stays one query).

An app registers in its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.safestring import SafeString

from common.users import UserLike
from tickets.models import Queue

from .forms import Period
from .models import SurveyInvitation, SurveyResponse


@dataclass(frozen=True)
class TeamPanel:
    template: str
    context: Callable[[UserLike, Sequence[Queue], Period], dict[str, Any]]


@dataclass(frozen=True)
class FeedbackFigure:
    template: str
    context: Callable[[QuerySet[SurveyInvitation], Period], dict[str, Any]]


@dataclass(frozen=True)
class CommentFilter:
    name: str  # the query parameter
    label: str
    choices: tuple[tuple[str, str], ...]  # (value, label)
    narrow: Callable[[QuerySet[SurveyResponse], str], QuerySet[SurveyResponse]]  # with one of the choices' values
    badge: Callable[[SurveyResponse], SafeString]
    select_related: tuple[str, ...] = ()


_team_panels: list[TeamPanel] = []
_feedback_figures: list[FeedbackFigure] = []
_comment_filters: list[CommentFilter] = []


def _add(registry: list[Any], item: Any) -> None:
    if item not in registry:
        registry.append(item)


def team_panel_register(panel: TeamPanel) -> None:
    _add(_team_panels, panel)


def feedback_figure_register(figure: FeedbackFigure) -> None:
    _add(_feedback_figures, figure)


def comment_filter_register(comment_filter: CommentFilter) -> None:
    if any(known.name == comment_filter.name and known != comment_filter for known in _comment_filters):
        raise ValueError(f"{comment_filter.name!r} is already registered.")
    _add(_comment_filters, comment_filter)


def team_panels() -> list[TeamPanel]:
    return list(_team_panels)


def feedback_figures() -> list[FeedbackFigure]:
    return list(_feedback_figures)


def comment_filters() -> list[CommentFilter]:
    return list(_comment_filters)
