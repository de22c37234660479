"""Tags on a ticket: an agent adds or removes one (a tag_added / tag_removed event each); the list filters by them and
bulk-tags through these same services; macros add tags with ticket_tag_add.

A tag is named by its text: the first use of a name creates the Tag (names are unique whatever their case, so
"VPN" after "vpn" is the same tag, shown as first written).
"""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from common.errors import DomainError

from ..models import TAG_NAME_MAX, Tag, TicketEvent, TicketTag
from .core import ensure_can_work, ticket_lock

_ALLOWED = re.compile(r"[\w -]+")


def tag_name_clean(name: str) -> str:
    """The tag's name as stored: spaces collapsed; refused (DomainError) when empty, too long, or with characters
    other than letters, digits, spaces, - and _ (a comma separates tags in a macro's list)."""
    name = " ".join(name.split())
    if not name:
        raise DomainError("A tag needs a name.")
    if len(name) > TAG_NAME_MAX:
        raise DomainError(f"A tag name has at most {TAG_NAME_MAX} characters.")
    if not _ALLOWED.fullmatch(name) or not slugify(name):
        raise DomainError(f"{name!r}: a tag name has letters, digits, spaces, - and _ only.")
    return name


def tag_names_parse(text: str) -> list[str]:
    """A comma-separated list of tag names (a form's or a macro's), cleaned, each once (case-insensitive)."""
    names: dict[str, str] = {}
    for part in text.split(","):
        if part.strip():
            name = tag_name_clean(part)
            names.setdefault(name.casefold(), name)
    return list(names.values())


def tag_get_or_create(*, name: str) -> Tag:
    """The tag of this name (any case), created if new; two first uses at once both get the one tag."""
    name = tag_name_clean(name)
    tag = Tag.objects.filter(name__iexact=name).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a lost race
            return Tag.objects.create(name=name, slug=_free_slug(name))
    except IntegrityError:
        return Tag.objects.get(name__iexact=name)


def _free_slug(name: str) -> str:
    """slugify(name), or with -2, -3… when another name has the same slug ("C++" and "C" both slugify to "c")."""
    base = slugify(name)[:TAG_NAME_MAX]
    taken = set(Tag.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    return next(slug for n in range(1, len(taken) + 2) if (slug := base if n == 1 else f"{base}-{n}") not in taken)


@transaction.atomic
def ticket_tag_add(*, ticket_id: int, name: str, by: User | None) -> bool:
    """Put the tag `name` on the ticket (creating the tag on its first use), with a tag_added event.

    Public: the ticket page, the bulk actions and macros (macros.services.macro_apply) call it. `by` must work in the
    ticket's queue (PermissionDenied otherwise); None is the system. Returns False, writing nothing, when the ticket
    has the tag already. An invalid name raises DomainError before anything is written."""
    name = tag_name_clean(name)
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    tag = tag_get_or_create(name=name)
    if TicketTag.objects.filter(ticket=ticket, tag=tag).exists():
        return False
    TicketTag.objects.create(ticket=ticket, tag=tag, added_by=by)
    TicketEvent.objects.create(ticket=ticket, actor=by, kind=TicketEvent.Kind.TAG_ADDED, new_value=tag.name)
    return True


@transaction.atomic
def ticket_tag_remove(*, ticket_id: int, name: str, by: User | None) -> bool:
    """Take the tag `name` (any case) off the ticket, with a tag_removed event. Returns False, writing nothing, when
    the ticket does not have it. The Tag itself stays (other tickets, the filter's bookmarks)."""
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    row = TicketTag.objects.filter(ticket=ticket, tag__name__iexact=" ".join(name.split())).select_related("tag")
    found = row.first()
    if found is None:
        return False
    found.delete()
    TicketEvent.objects.create(ticket=ticket, actor=by, kind=TicketEvent.Kind.TAG_REMOVED, old_value=found.tag.name)
    return True
