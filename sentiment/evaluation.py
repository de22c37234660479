"""The scorer measured on labelled texts: macro-F1 against plain VADER, the confusion matrix, and how much is left
"not scored" (English should be scored, other languages never are). Pure: rows in, report lines out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .scoring import Label, text_score, vader_label

LABELS = (Label.NEGATIVE, Label.NEUTRAL, Label.POSITIVE)
EVAL_SET = Path(__file__).parent / "eval" / "support_texts.tsv"


@dataclass(frozen=True)
class Row:
    text: str
    label: Label
    language: str = ""  # "" = not given: the scorer's own identification decides
    split: str = ""


def rows_read(path: Path, *, labelled_set: bool) -> list[Row]:
    """Rows of a TSV. The labelled set: text, label, language, category, split ('#' lines are comments). Any other
    file: text TAB label, no header. Unknown labels raise ValueError with the line number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or (labelled_set and line.startswith("#")):
            continue
        fields = line.split("\t")
        if len(fields) < 2 or fields[1].strip() not in {label.value for label in LABELS}:
            raise ValueError(f"line {number}: expected text TAB negative|neutral|positive")
        if labelled_set:
            rows.append(Row(fields[0], Label(fields[1]), language=fields[2], split=fields[4]))
        else:
            rows.append(Row(fields[0], Label(fields[1].strip())))
    return rows


def macro_f1(pairs: Sequence[tuple[Label, Label]]) -> float:
    """The mean F1 of the labels that occur (in the truth or the predictions; a prediction "not scored" counts as
    wrong for its true label)."""
    scores = []
    for label in [label for label in LABELS if any(label in pair for pair in pairs)]:
        hits = sum(1 for truth, guess in pairs if truth == label and guess == label)
        wrong = sum(1 for truth, guess in pairs if truth != guess and label in (truth, guess))
        scores.append(2 * hits / (2 * hits + wrong) if hits else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%} ({part} of {whole})" if whole else "— (no rows)"


def report(rows: Iterable[Row]) -> list[str]:
    rows = list(rows)
    scored = [(row, text_score(row.text)) for row in rows]
    english = [(row, result) for row, result in scored if (row.language or result.language) in ("en", "")]
    others = [(row, result) for row, result in scored if (row.language or result.language) not in ("en", "")]
    pairs = [(row.label, result.label) for row, result in english]
    baseline = [(row.label, vader_label(row.text)) for row, _ in english]
    correct = sum(1 for truth, guess in pairs if truth == guess)
    columns = [*LABELS, Label.NOT_SCORED]
    lines = [
        f"English rows: {len(english)}",
        f"accuracy: {correct / len(pairs):.2f}" if pairs else "accuracy: —",
        f"macro-F1: {macro_f1(pairs):.2f}",
        f"baseline macro-F1 (plain VADER): {macro_f1(baseline):.2f}",
        "confusion (rows: true label, columns: scored as)",
        "            " + "".join(f"{column.value:>12}" for column in columns),
    ]
    for truth in LABELS:
        counts = [sum(1 for t, g in pairs if t == truth and g == column) for column in columns]
        lines.append(f"{truth.value:>12}" + "".join(f"{count:>12}" for count in counts))
    not_scored_en = sum(1 for _, result in english if result.label == Label.NOT_SCORED)
    not_scored_other = sum(1 for _, result in others if result.label == Label.NOT_SCORED)
    lines.append(f"English rows not scored: {_share(not_scored_en, len(english))}")
    lines.append(f"non-English rows not scored: {_share(not_scored_other, len(others))}")
    return lines
