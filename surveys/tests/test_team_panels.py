"""A panel an app adds to the team dashboard (surveys.extensions.TeamPanel): rendered with the led queues and the
period, within the dashboard's query budget; nothing registered, no panel."""

import pytest
from django.urls import reverse

from surveys import extensions
from tickets.tests.factories import QueueFactory

pytestmark = pytest.mark.django_db

TEAM = reverse("surveys:team")
XSS = "<b>NPS</b>"


@pytest.fixture(autouse=True)
def _no_panels(monkeypatch):
    monkeypatch.setattr(extensions, "_team_panels", [])


@pytest.fixture
def panel(own_templates):
    own_templates(
        {
            "ext/team.html": '<section class="card ext-team"><h2>{{ title }}</h2>'
            "{% for queue in queues %}<p>{{ queue.name }}</p>{% endfor %}<p>{{ period }}</p></section>"
        }
    )
    calls = []

    def context(user, queues, period):
        calls.append(user.pk)
        return {"title": XSS, "queues": queues, "period": period.label}

    extensions.team_panel_register(extensions.TeamPanel(template="ext/team.html", context=context))
    return calls


def test_a_registered_panel_is_shown_with_the_led_queues_and_the_period(
    client, queue, lead, panel, django_assert_max_num_queries
):
    QueueFactory(name="Not led")
    client.force_login(lead)

    with django_assert_max_num_queries(12):
        text = client.get(TEAM, {"period": "30"}).text

    assert panel == [lead.pk]
    section = text[text.index('class="card ext-team"') :]
    section = section[: section.index("</section>")]
    assert "<h2>&lt;b&gt;NPS&lt;/b&gt;</h2>" in section and XSS not in text
    assert f"<p>{queue.name}</p>" in section and "Not led" not in section
    assert "Last 30 days" in section
    assert text.index("<h2>Queues</h2>") < text.index("ext-team") < text.index("Weekly trend")


def test_with_nothing_registered_the_dashboard_has_no_panel(client, queue, lead):
    client.force_login(lead)

    text = client.get(TEAM).text

    assert "ext-team" not in text
    assert "Weekly trend" in text
