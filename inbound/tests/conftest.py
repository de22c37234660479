import pytest

# "case → outcome" rows of the corpus run (test_corpus.py), printed at the end of the session.
CORPUS_OUTCOMES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Attachments and large raw emails are written to file storage: keep them out of the checkout."""
    settings.MEDIA_ROOT = tmp_path


def pytest_terminal_summary(terminalreporter):
    if not CORPUS_OUTCOMES:
        return
    terminalreporter.section("inbound corpus: case → outcome")
    width = max(len(case) for case in CORPUS_OUTCOMES)
    for case, outcome in sorted(CORPUS_OUTCOMES.items()):
        terminalreporter.write_line(f"{case:<{width}}  {outcome}")
