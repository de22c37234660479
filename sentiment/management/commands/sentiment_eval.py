"""manage.py sentiment_eval [--file F.tsv] [--split heldout|tune|all]: the scorer on labelled texts (see
sentiment.evaluation). Without --file: the English rows of the held-out half of the committed set (and its
non-English rows for the not-scored share). With --file: every row of a TSV of text TAB label (no header)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sentiment.evaluation import EVAL_SET, report, rows_read


class Command(BaseCommand):
    help = "Measure the sentiment scorer (macro-F1 against plain VADER) on labelled texts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, help="a TSV: text TAB negative|neutral|positive, no header")
        parser.add_argument("--split", choices=["heldout", "tune", "all"], default="heldout")

    def handle(self, *args: Any, file: Path | None, split: str, **options: Any) -> None:
        try:
            if file is not None:
                rows = rows_read(file, labelled_set=False)
            else:
                rows = [row for row in rows_read(EVAL_SET, labelled_set=True) if split in ("all", row.split)]
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        source = str(file) if file is not None else f"{EVAL_SET.name}, {split} half"
        self.stdout.write(f"Scorer on {source}: {len(rows)} rows")
        for line in report(rows):
            self.stdout.write(line)
