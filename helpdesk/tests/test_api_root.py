"""/api/v1/ lists the API's entry points; anything unknown under it is still a 404 in the API's error format."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db

NOT_FOUND = {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()  # the anonymous throttle's history lives in the cache
    yield
    cache.clear()


def test_api_root_lists_the_resources_the_token_login_and_the_docs(client):
    response = client.get("/api/v1/")

    assert response.status_code == 200
    links = response.json()
    base = "http://testserver/api/"
    for resource in ("tickets", "customers", "survey-invitations", "survey-responses", "followups"):
        assert links[resource] == f"{base}v1/{resource}/"
        assert client.get(links[resource]).status_code == 401  # listed for anyone, readable with credentials only
    assert links["auth-login"] == f"{base}v1/auth/login/"
    assert (links["schema"], links["docs"], links["redoc"]) == (f"{base}schema/", f"{base}docs/", f"{base}redoc/")


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/tickets/x/y/z/", "/api/v1/v1/", "/api/v1/stats/"])
def test_unknown_paths_under_the_api_are_404_in_its_error_format(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
