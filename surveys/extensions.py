"""Extension points of the surveys pages: what the apps above surveys add to them without surveys knowing those apps
(the way tickets.extensions does for the ticket pages).

- TeamPanel: a card of the team dashboard (leads and admins), under the queues' figures: its template and a context
  function given the user, the queues the dashboard shows and its period (surveys.forms.Period: start, end, label).
  It is rendered with the page's request, in registration order; nothing registered, nothing shown. Keep its reads
  to a query or two: the dashboard keeps a query budget.

An app registers in its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from common.users import UserLike
from tickets.models import Queue

from .forms import Period


@dataclass(frozen=True)
class TeamPanel:
    template: str
    context: Callable[[UserLike, Sequence[Queue], Period], dict[str, Any]]


_team_panels: list[TeamPanel] = []


def team_panel_register(panel: TeamPanel) -> None:
    if panel not in _team_panels:
        _team_panels.append(panel)


def team_panels() -> list[TeamPanel]:
    return list(_team_panels)
