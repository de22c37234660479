"""The list filters' QuickSelect writes what Django's Select writes (options, the selected one, attributes, escaping)
without a template include per option."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from tickets.forms import QuickSelect

CHOICES = [("", "Any"), ('a"b', "<b>x</b> & y"), ("2", "Two")]


def _normalised(html: str) -> list[tuple]:
    """Each tag with its attributes in order, and the text: what a browser reads, whatever the whitespace."""
    parts: list[tuple] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            parts.append((tag, sorted(attrs, key=lambda a: a[0])))

        def handle_data(self, data):
            if data.strip():
                parts.append(("text", data))

    Parser().feed(html)
    return parts


@pytest.mark.parametrize(("value", "attrs"), [("2", {}), ("", {"required": True}), ('a"b', {"data-x": "<y>"})])
def test_it_renders_what_django_s_select_renders(value, attrs):
    django_select, quick = (
        forms.Select(attrs={"id": "id_f", "class": "c"}),
        QuickSelect(attrs={"id": "id_f", "class": "c"}),
    )
    django_select.choices = quick.choices = CHOICES

    ours = quick.render("f", value, attrs=attrs)

    assert _normalised(ours) == _normalised(django_select.render("f", value, attrs=attrs))
    assert "<b>" not in ours and "&lt;b&gt;x&lt;/b&gt; &amp; y" in ours


@pytest.mark.django_db
def test_the_list_filters_use_it_and_keep_the_chosen_value(queue, agent):
    client = Client()
    client.force_login(agent)
    page = client.get(reverse("tickets:list"), {"status": "pending"}).text
    assert re.search(r'<select name="status"[^>]*><option value="">Any</option>', page)
    assert '<option value="pending" selected>Pending</option>' in page
