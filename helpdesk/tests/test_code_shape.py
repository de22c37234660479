"""The shape the code keeps (docs/architecture.md): no module does several jobs by growing past MAX_LINES."""

from pathlib import Path

from django.conf import settings

MAX_LINES = 400
ROOT = Path(settings.BASE_DIR)
SKIPPED_PARTS = {"migrations", "tests", ".venv", "var", "node_modules", "e2e"}


def python_modules() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_PARTS.intersection(path.relative_to(ROOT).parts) and path.name != "conftest.py"
    ]


def test_no_module_is_over_400_lines():
    sizes = {path.relative_to(ROOT): len(path.read_text().splitlines()) for path in python_modules()}

    assert len(sizes) > 50  # the walk found the project
    assert {str(path): lines for path, lines in sizes.items() if lines > MAX_LINES} == {}
