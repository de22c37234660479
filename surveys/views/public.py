"""Customer survey pages: no login, the token in the URL is the credential. GET never records anything."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import DomainError
from common.ratelimit import public_rate_limit
from common.tokens import token_resolve

from ..forms import NpsAnswerForm, ResurveyAnswerForm, SurveyAnswerForm
from ..models import (
    NPS_LINK_PURPOSE,
    NPS_SCORES,
    RESURVEY_LINK_PURPOSE,
    SURVEY_LINK_PURPOSE,
    SURVEY_UNSUBSCRIBE_PURPOSE,
    NpsSurvey,
    Resurvey,
    SurveyInvitation,
    SurveyResponse,
)
from ..services import customer_opt_out, nps_answer, response_submit, resurvey_answer


def _invitation(token: str) -> SurveyInvitation | None:
    """The invitation of a valid token; None for unknown, tampered or expired alike."""
    pk = token_resolve(raw=token, purpose=SURVEY_LINK_PURPOSE)
    if pk is None:
        return None
    return SurveyInvitation.objects.select_related("ticket", "queue", "agent").filter(pk=pk).first()


def link_invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/link_invalid.html", status=404)


def _closed(request: HttpRequest, invitation: SurveyInvitation | None) -> HttpResponse:
    """The page shown instead of a survey that takes no answers: the ticket was reopened after the email (410, said
    so), or the link is not valid (404)."""
    if invitation is not None and invitation.reopened_at is not None:
        context = {"invitation": invitation, "ticket": invitation.ticket}
        return render(request, "surveys/reopened.html", context, status=410)
    return link_invalid(request)


def _current_answer(invitation: SurveyInvitation) -> SurveyResponse | None:
    return SurveyResponse.objects.filter(invitation=invitation).first()


def _preselected_csat(request: HttpRequest) -> int | None:
    value = request.GET.get("csat", "")
    return int(value) if value in {"1", "2", "3", "4", "5"} else None


@public_rate_limit
@require_http_methods(["GET", "POST"])
def landing(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    if invitation is None or not invitation.is_open_for_answers:
        return _closed(request, invitation)
    answer = _current_answer(invitation)
    if request.method == "POST":
        form = SurveyAnswerForm(request.POST)
        if form.is_valid():
            try:
                response_submit(
                    invitation_id=invitation.pk,
                    via=form.cleaned_data["via"],
                    csat=form.cleaned_data["csat"],
                    ces=form.cleaned_data["ces"],
                    comment=form.cleaned_data["comment"] if "comment" in request.POST else None,
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                if "application/json" in request.headers.get("Accept", ""):
                    return JsonResponse({"recorded": True})
                return redirect("surveys:thanks", token=token)
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"recorded": False, "errors": form.errors}, status=400)
        return render(request, "surveys/survey.html", _context(invitation, form, answer), status=400)

    csat = _preselected_csat(request)
    initial = {
        "csat": csat or (answer.csat if answer else None),
        "ces": answer.ces if answer else None,
        "comment": answer.comment if answer else "",
    }
    context = _context(invitation, SurveyAnswerForm(initial=initial), answer)
    context["autosubmit_csat"] = csat if csat is not None and (answer is None or answer.csat != csat) else None
    return render(request, "surveys/survey.html", context)


@public_rate_limit
@require_http_methods(["GET"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    if invitation is None or not invitation.is_open_for_answers:
        return _closed(request, invitation)
    answer = _current_answer(invitation)
    initial = {"csat": answer.csat, "ces": answer.ces, "comment": answer.comment} if answer else {}
    context = _context(invitation, SurveyAnswerForm(initial=initial), answer)
    context["thanks"] = True
    return render(request, "surveys/survey.html", context)


def _context(invitation: SurveyInvitation, form: SurveyAnswerForm, answer: SurveyResponse | None) -> dict:
    return {"invitation": invitation, "ticket": invitation.ticket, "form": form, "answer": answer}


@public_rate_limit
@require_http_methods(["GET", "POST"])
def resurvey(request: HttpRequest, token: str) -> HttpResponse:
    """ "Did we make this right?": GET shows the question (the clicked score preselected and posted by survey.js, so a
    link scanner's GET records nothing); POST records the score (again: changes it)."""
    pk = token_resolve(raw=token, purpose=RESURVEY_LINK_PURPOSE)
    row = Resurvey.objects.select_related("followup__ticket").filter(pk=pk).first() if pk is not None else None
    if row is None or not row.is_open_for_answers:
        return link_invalid(request)
    context: dict[str, object] = {"resurvey": row, "ticket": row.followup.ticket, "token": token}
    if request.method == "POST":
        form = ResurveyAnswerForm(request.POST)
        wants_json = "application/json" in request.headers.get("Accept", "")
        if form.is_valid():
            try:
                resurvey_answer(resurvey_id=row.pk, score=form.cleaned_data["score"])
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                if wants_json:
                    return JsonResponse({"recorded": True})
                return render(request, "surveys/resurvey.html", {**context, "form": form, "thanks": True})
        if wants_json:
            return JsonResponse({"recorded": False, "errors": form.errors}, status=400)
        return render(request, "surveys/resurvey.html", {**context, "form": form}, status=400)
    clicked = request.GET.get("score", "")
    clicked_score = int(clicked) if clicked in {"1", "2", "3", "4", "5"} else None
    form = ResurveyAnswerForm(initial={"score": clicked_score or row.score})
    context |= {"form": form, "autosubmit": clicked_score if clicked_score != row.score else None}
    return render(request, "surveys/resurvey.html", context)


@public_rate_limit
@require_http_methods(["GET", "POST"])
def nps(request: HttpRequest, token: str) -> HttpResponse:
    """The NPS survey: GET shows the 0–10 scale (the clicked score preselected and posted by survey.js, so a link
    scanner's GET records nothing) and the "why?" box; POST records the score and, when given, the reason."""
    pk = token_resolve(raw=token, purpose=NPS_LINK_PURPOSE)
    row = NpsSurvey.objects.filter(pk=pk).first() if pk is not None else None
    if row is None or not row.is_open_for_answers:
        return link_invalid(request)
    context: dict[str, object] = {"nps": row, "token": token}
    if request.method == "POST":
        form = NpsAnswerForm(request.POST)
        wants_json = "application/json" in request.headers.get("Accept", "")
        if form.is_valid():
            try:
                row = nps_answer(
                    nps_id=row.pk,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"] if "comment" in request.POST else None,
                    via=form.cleaned_data["via"],
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                if wants_json:
                    return JsonResponse({"recorded": True})
                form = NpsAnswerForm(initial={"score": row.score, "comment": row.comment})
                return render(request, "surveys/nps.html", {**context, "nps": row, "form": form, "thanks": True})
        if wants_json:
            return JsonResponse({"recorded": False, "errors": form.errors}, status=400)
        return render(request, "surveys/nps.html", {**context, "form": form}, status=400)
    clicked = request.GET.get("score", "")
    clicked_score = int(clicked) if clicked.isdigit() and int(clicked) in NPS_SCORES else None
    score = clicked_score if clicked_score is not None else row.score
    form = NpsAnswerForm(initial={"score": score, "comment": row.comment})
    autosubmit = clicked_score if clicked_score is not None and clicked_score != row.score else None
    return render(request, "surveys/nps.html", {**context, "form": form, "autosubmit": autosubmit})


def _unsubscribe_target(token: str) -> int | None:
    """The customer to opt out: a survey email's unsubscribe token (valid long after the survey expired), or a
    survey, re-survey or NPS token (the survey page's own link, and the emails sent before unsubscribe tokens), even
    once answered."""
    customer_id = token_resolve(raw=token, purpose=SURVEY_UNSUBSCRIBE_PURPOSE)
    if customer_id is not None:
        return customer_id
    pk = token_resolve(raw=token, purpose=SURVEY_LINK_PURPOSE)
    if pk is not None:
        return SurveyInvitation.objects.filter(pk=pk).values_list("customer_id", flat=True).first()
    pk = token_resolve(raw=token, purpose=RESURVEY_LINK_PURPOSE)
    if pk is not None:
        return Resurvey.objects.filter(pk=pk).values_list("customer_id", flat=True).first()
    pk = token_resolve(raw=token, purpose=NPS_LINK_PURPOSE)
    return NpsSurvey.objects.filter(pk=pk).values_list("customer_id", flat=True).first() if pk is not None else None


@public_rate_limit
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    customer_id = _unsubscribe_target(token)
    if customer_id is None:
        return link_invalid(request)
    if request.method == "POST":
        customer_opt_out(customer_id=customer_id)
        return render(request, "surveys/unsubscribe.html", {"done": True})
    return render(request, "surveys/unsubscribe.html", {"done": False})


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session; the token is the authorisation
@public_rate_limit
@require_POST
def unsubscribe_one_click(request: HttpRequest, token: str) -> HttpResponse:
    customer_id = _unsubscribe_target(token)
    if customer_id is None:
        return link_invalid(request)
    customer_opt_out(customer_id=customer_id)
    return HttpResponse("You are unsubscribed from satisfaction surveys.", content_type="text/plain")
