"""The scorer: support mail read right, other languages and word-less text not scored (never neutral), any string
accepted; the evaluation command on the committed set and on a team's own file."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sentiment.evaluation import EVAL_SET, macro_f1, rows_read
from sentiment.scoring import Label, text_score, vader_label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Thank you so much, that fixed it!", Label.POSITIVE),
        ("This is the worst support I have ever had.", Label.NEGATIVE),
        ("Still not fixed.", Label.NEGATIVE),  # plain VADER: neutral
        ("This is the third time I am writing about this.", Label.NEGATIVE),
        ("Great, another update that breaks everything.", Label.NEGATIVE),  # sarcasm
        ("Thanks for the quick reply, but the problem is still there.", Label.NEGATIVE),
        ("Could you please send me a copy of last month's invoice?", Label.NEUTRAL),  # a polite request
        ("Works now, thanks 👍", Label.POSITIVE),
    ],
)
def test_support_mail_is_read_right(text, label):
    scored = text_score(text)
    assert (scored.label, scored.language) == (label, "en")
    assert scored.score is not None and -1 <= scored.score <= 1
    assert scored.version


def test_the_rules_change_what_plain_vader_misreads():
    assert vader_label("Still not fixed.") == Label.NEUTRAL
    assert text_score("Still not fixed.").label == Label.NEGATIVE


@pytest.mark.parametrize(
    "text",
    [
        "Das Problem besteht immer noch, ich warte seit drei Tagen.",
        "Merci beaucoup pour votre aide rapide.",
        "Sigo esperando una respuesta desde el lunes.",
    ],
)
def test_other_languages_are_not_scored_never_neutral(text):
    scored = text_score(text)
    assert scored.label == Label.NOT_SCORED and scored.score is None
    assert scored.reason.startswith("not English") and scored.language in {"de", "fr", "es"}


@pytest.mark.parametrize("text", ["", "   ", "?!...", "12345", "\x00\x01\x02"])
def test_text_without_words_is_not_scored(text):
    assert text_score(text) == text_score(text)  # deterministic
    assert text_score(text).label == Label.NOT_SCORED


def test_huge_and_odd_input_never_raises():
    huge = "The export is broken and I am angry. " * 20_000  # read up to its first 5,000 characters
    assert text_score(huge).label == Label.NEGATIVE
    for text in ["😡" * 50, "\udcff broken", "ok\u202e", "é" * 10]:
        assert text_score(text).label in set(Label)


def test_macro_f1_by_hand():
    pairs = [
        (Label.NEGATIVE, Label.NEGATIVE),
        (Label.NEGATIVE, Label.NEUTRAL),
        (Label.NEUTRAL, Label.NEUTRAL),
        (Label.POSITIVE, Label.NOT_SCORED),
    ]
    # negative: 2·1/(2+1) = 2/3; neutral: 2·1/(2+1) = 2/3; positive: 0
    assert macro_f1(pairs) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_the_labelled_set_is_large_split_and_varied():
    rows = rows_read(EVAL_SET, labelled_set=True)
    assert len(rows) >= 300
    assert {row.split for row in rows} == {"tune", "heldout"}
    assert {row.label for row in rows} == {Label.NEGATIVE, Label.NEUTRAL, Label.POSITIVE}
    assert {"de", "fr", "es"} <= {row.language for row in rows}


def test_the_eval_command_prints_the_figures_of_the_held_out_half():
    out = StringIO()
    call_command("sentiment_eval", stdout=out)
    lines = out.getvalue().splitlines()
    f1 = float(next(line for line in lines if line.startswith("macro-F1: ")).split(": ")[1])
    baseline = float(
        next(line for line in lines if line.startswith("baseline macro-F1 (plain VADER): ")).split(": ")[1]
    )
    assert f1 >= 0.75 and f1 >= baseline + 0.05
    assert any(line.startswith("English rows not scored: ") for line in lines)
    assert any(line.startswith("non-English rows not scored: 100.0%") for line in lines)


def test_the_eval_command_reads_a_teams_own_file(tmp_path):
    own = tmp_path / "ours.tsv"
    own.write_text("Still broken after the update.\tnegative\nThanks, all good now!\tpositive\n", encoding="utf-8")
    out = StringIO()
    call_command("sentiment_eval", file=own, stdout=out)
    assert "macro-F1: 1.00" in out.getvalue() and "2 rows" in out.getvalue()

    own.write_text("no label here\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1"):
        call_command("sentiment_eval", file=own)
