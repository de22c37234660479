"""Who is acting, and how a person is named on pages and in emails (the one place for both)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from typing_extensions import TypeIs

UserLike = User | AnonymousUser


def is_active_user(user: UserLike) -> TypeIs[User]:
    """A signed-in, active user (what every permission selector starts from)."""
    return isinstance(user, User) and user.is_active


def display_name(user: Any, *, default: str = "") -> str:
    """Full name, else username; `default` for no user."""
    if user is None:
        return default
    return user.get_full_name() or user.get_username()


def signed_in_user(request: Any) -> User:
    """The signed-in user of a request (a Django or DRF one) whose view requires login; anonymous → 403."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user
