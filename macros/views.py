"""The macros pages: the list (with each macro's uses in the last 30 days), new/edit (POST + CSRF), delete (POST),
and the reply box's partials (GET, changing nothing): the macro choice, and the preview (the text filled for the
ticket and the actions)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.users import signed_in_user
from tickets.models import Ticket
from tickets.selectors import tickets_visible_to

from .forms import MacroForm
from .models import Macro
from .rendering import NAMES, macro_text
from .selectors import USAGE_DAYS, macros_editable, macros_listed, macros_offered
from .services import macro_delete, macro_save

PAGE_SIZE = 50


@require_GET
@login_required
def macro_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    page = Paginator(macros_listed(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    editable = set(macros_editable(user=user).filter(pk__in=[m.pk for m in page]).values_list("pk", flat=True))
    context = {"page": page, "editable": editable, "usage_days": USAGE_DAYS}
    return render(request, "macros/list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def macro_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = signed_in_user(request)
    macro = None
    if pk is not None:
        macro = macros_editable(user=user).filter(pk=pk).first()
        if macro is None:
            raise Http404("No such macro.")
    form = MacroForm(request.POST or None, instance=macro, user=user)
    if request.method == "POST" and form.is_valid():
        saved = macro_save(by=user, fields=form.cleaned_data, macro_id=pk)
        messages.success(request, f"Macro \u201c{saved.name}\u201d saved.")
        return redirect("macros:list")
    status = 400 if request.method == "POST" else 200
    return render(request, "macros/edit.html", {"form": form, "macro": macro, "names": NAMES}, status=status)


@require_POST
@login_required
def macro_remove(request: HttpRequest, pk: int) -> HttpResponse:
    macro_delete(by=signed_in_user(request), macro_id=pk)
    messages.success(request, "Macro deleted.")
    return redirect("macros:list")


def _visible_ticket(request: HttpRequest, pk: int) -> Ticket:
    ticket = tickets_visible_to(request.user).select_related("customer", "queue").filter(pk=pk).first()
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


@require_GET
@login_required
def macro_picker(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    """The reply box's macro choice, loaded after the page (so the ticket page keeps its query budget)."""
    ticket = _visible_ticket(request, ticket_pk)
    macros = macros_offered(user=signed_in_user(request), ticket=ticket).only("pk", "name", "queue_id")
    return render(request, "macros/_picker.html", {"ticket": ticket, "macros": list(macros)})


@require_GET
@login_required
def macro_preview(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    """The reply box's partial for the chosen macro: its text for this ticket and what sending will do."""
    user = signed_in_user(request)
    ticket = _visible_ticket(request, ticket_pk)
    macro: Macro | None = None
    if request.GET.get("macro", "").isdigit():
        macro = macros_offered(user=user, ticket=ticket).filter(pk=int(request.GET["macro"])).first()
        if macro is None:
            raise Http404("No such macro.")
    text = macro_text(macro.body, ticket=ticket, agent=user) if macro else ""
    return render(request, "macros/_preview.html", {"macro": macro, "text": text})
