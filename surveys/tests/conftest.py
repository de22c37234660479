import pytest

from .migrating import migrate_to_latest


@pytest.fixture
def back_to_the_latest():
    """The next tests on this database need every migration applied: the latest, not a migration test's target."""
    yield
    migrate_to_latest()
