from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import OPEN_STATUSES
from .selectors import queues_visible_to, tickets_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    tickets = tickets_visible_to(request.user)
    my_open = tickets.filter(assignee_id=request.user.pk, status__in=OPEN_STATUSES)
    context = {
        "queues": queues_visible_to(request.user),
        "my_open_count": my_open.count(),
        "my_open_tickets": my_open.select_related("queue", "customer").order_by("-updated_at")[:20],
        "unassigned_count": tickets.filter(assignee__isnull=True, status__in=OPEN_STATUSES).count(),
    }
    return render(request, "tickets/home.html", context)
