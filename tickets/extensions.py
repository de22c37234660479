"""Extension points of the ticket pages and the customer's emails: what other apps add to them without tickets
knowing those apps.

An app registers its additions in its AppConfig.ready() (surveys: the rating column, the "Poor ratings" view, the
rating filter, the survey panel of the ticket page, and its navigation entries). tickets renders whatever is
registered and never imports the registering app; with nothing registered the pages are a plain ticket desk.

- ListColumn: a column of the ticket list: what its cell reads with each row (`annotations`: name → a correlated
  subquery or Exists(), so the page keeps its query count), its sort expression, and its cell as escaped HTML
  (computed once per row in the view, never in a template). Annotations, not joins: Postgres plans a query in time
  that grows steeply with its joined tables (the list with three joined columns took 10–12 ms to plan and 1 ms to
  run at 100k tickets), while each subquery is planned alone and, under the page's LIMIT, runs for its 50 rows only.
  The annotations of the columns (and of the panels) are built once and reused by every query: they must not depend
  on the time or the request.
- ListView: a saved view (a tab of the list) narrowing the tickets the user can see (it is given the user, so it can
  narrow through its own table by the user's queues first; the visibility rule of tickets is applied regardless).
  tickets registers its own built-in views the same way (tickets.saved_views).
- ListFilter: a field of the list's filter form and how its cleaned value narrows the tickets.
- TicketPanel: a card in the ticket page's sidebar: its template, a context function (given the visible ticket) and
  optional annotations of the page's ticket query (e.g. an Exists() flag, so the context needs no query of its own
  for the many tickets without what it shows).
- NavEntry: a link of the main navigation, optionally shown only to some users, optionally with a count beside it
  (`count(user)`, e.g. the held emails of the user's queues): tickets.nav_counts keeps it per user in the cache for
  NAV_COUNT_SECONDS, so a page costs no query for it; a page finding none cached loads it from the count partial.
- ThreadNotice: a notice at the top of the ticket page's thread: its template and a context function given the
  visible ticket, returning None when there is nothing to say (read what it needs from an annotation of a panel,
  so the page keeps its query count).
- ReplyTool: a tool in the agent's reply box of the ticket page (under the reply's text): its template and a context
  function given the visible ticket; shown while the ticket is open (a closed ticket has no reply box). Optionally
  its own form fields (`fields`: name → a new form field, added to the reply form, so the tool's inputs inside the
  box are validated with the reply) and `on_send(ticket, cleaned_data, by)`, called when the reply is sent, in its
  transaction and before it (a DomainError or Http404 it raises sends nothing); it returns words for the flash
  message ("" for none).
- RequestFormBlock: a block of the public request form under its subject field: its template and a context function
  given the form (bound on a POST). The page is public: the block shows only what anyone may see.
- ConfirmationContent: a block of the new-ticket confirmation email, for requests from the form (Channel.WEB) and
  the email-in acknowledgement (Channel.EMAIL, the same email queued by inbound): <template>.txt goes into the text
  part unescaped, <template>.html into the HTML part escaped. Its context function is called when the outbox renders
  the email (at send time, so it may mint links); None leaves it out of that email.

Each is rendered where it goes with whatever is registered, in registration order; nothing registered, nothing shown.

Ticket links (the tokened customer links) are registered with common.tokens.token_purpose_register; the close and
reopen hooks are the signals in tickets.signals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Expression, F, OrderBy, QuerySet
from django.utils.safestring import SafeString

from common.users import UserLike

from .models import Channel, Ticket


@dataclass(frozen=True)
class ListColumn:
    key: str  # also its sort name: ?sort=<key> / -<key>
    label: str
    cell: Callable[[Ticket], SafeString]
    sort: Expression | F | None = None
    nullable: bool = True  # NULLs sort last
    annotations: Callable[[], dict[str, Any]] | None = None  # name → expression, read with each row


@dataclass(frozen=True)
class ListView:
    key: str
    label: str
    narrow: Callable[[QuerySet[Ticket], UserLike], QuerySet[Ticket]]
    default_order: tuple[OrderBy, ...] = ()  # when the user chose no sort (else the list's -updated)
    page_by_ids: bool = True  # a page reads its ids from the match first (a view narrowing through another table)
    position: int = 0  # the tabs are ordered by position, then registration: tickets' "All tickets" is 1, last


@dataclass(frozen=True)
class ListFilter:
    name: str  # the query parameter and form field name
    field: Callable[[], forms.Field]
    narrow: Callable[[QuerySet[Ticket], Any], QuerySet[Ticket]]  # called with a non-empty cleaned value


@dataclass(frozen=True)
class TicketPanel:
    template: str
    context: Callable[[Ticket], dict[str, Any]]
    annotations: Callable[[], dict[str, Any]] | None = None  # name → expression, read with the ticket


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    visible: Callable[[UserLike], bool] | None = None
    count: Callable[[UserLike], int] | None = None  # shown beside the label when > 0, cached (tickets.nav_counts)


@dataclass(frozen=True)
class ThreadNotice:
    template: str
    context: Callable[[Ticket], dict[str, Any] | None]  # None: no notice on this ticket


@dataclass(frozen=True)
class ReplyTool:
    template: str
    context: Callable[[Ticket], dict[str, Any]]
    fields: Callable[[], dict[str, forms.Field]] | None = None
    on_send: Callable[[Ticket, dict[str, Any], Any], str] | None = None


@dataclass(frozen=True)
class RequestFormBlock:
    template: str
    context: Callable[[forms.Form], dict[str, Any]]


@dataclass(frozen=True)
class ConfirmationContent:
    template: str  # without suffix: <template>.txt and <template>.html
    context: Callable[[Ticket], dict[str, Any] | None]  # None: not in this email
    channels: frozenset[Channel] = frozenset(Channel)  # WEB: the form's confirmation, EMAIL: the acknowledgement


_columns: dict[str, ListColumn] = {}
_views: dict[str, ListView] = {}
_filters: dict[str, ListFilter] = {}
_panels: list[TicketPanel] = []
_nav: list[NavEntry] = []
_reply_tools: list[ReplyTool] = []
_thread_notices: list[ThreadNotice] = []
_request_form_blocks: list[RequestFormBlock] = []
_confirmation_contents: list[ConfirmationContent] = []


def _register(registry: dict[str, Any], key: str, item: Any) -> None:
    if registry.get(key, item) != item:
        raise ValueError(f"{key!r} is already registered.")
    registry[key] = item


def _add(registry: list[Any], item: Any) -> None:
    if item not in registry:
        registry.append(item)


def list_column_register(column: ListColumn) -> None:
    _register(_columns, column.key, column)


def list_view_register(view: ListView) -> None:
    _register(_views, view.key, view)


def list_filter_register(list_filter: ListFilter) -> None:
    _register(_filters, list_filter.name, list_filter)


def ticket_panel_register(panel: TicketPanel) -> None:
    _add(_panels, panel)


def nav_entry_register(entry: NavEntry) -> None:
    _add(_nav, entry)


def reply_tool_register(tool: ReplyTool) -> None:
    _add(_reply_tools, tool)


def thread_notice_register(notice: ThreadNotice) -> None:
    _add(_thread_notices, notice)


def request_form_block_register(block: RequestFormBlock) -> None:
    _add(_request_form_blocks, block)


def confirmation_content_register(content: ConfirmationContent) -> None:
    _add(_confirmation_contents, content)


def list_columns() -> list[ListColumn]:
    return list(_columns.values())


def list_views() -> list[ListView]:
    return sorted(_views.values(), key=lambda view: view.position)  # stable: registration order within a position


def list_view(key: str) -> ListView | None:
    return _views.get(key)


def list_column_annotations() -> dict[str, Any]:
    """The annotations the registered columns' cells read with each row of the list."""
    return _annotations(list(_columns.values()))


def ticket_panel_annotations() -> dict[str, Any]:
    """The annotations the registered panels read with the ticket of the detail page."""
    return _annotations(_panels)


_built_annotations: dict[tuple[int, ...], dict[str, Any]] = {}


def _annotations(items: list[ListColumn] | list[TicketPanel]) -> dict[str, Any]:
    """Built once per set of registered items and reused for every query: building a subquery costs a list page a
    millisecond per column, and a query copies each expression as it resolves it, so the same ones serve every
    request. An item's annotations therefore never depend on the time or the request."""
    key = tuple(id(item) for item in items)
    if key not in _built_annotations:
        _built_annotations[key] = {
            name: expression for item in items if item.annotations for name, expression in item.annotations().items()
        }
    return _built_annotations[key]


def list_filters() -> list[ListFilter]:
    return list(_filters.values())


def ticket_panels() -> list[TicketPanel]:
    return list(_panels)


def nav_entries_for(user: UserLike) -> list[NavEntry]:
    return [entry for entry in _nav if entry.visible is None or entry.visible(user)]


def reply_tools() -> list[ReplyTool]:
    return list(_reply_tools)


def thread_notices() -> list[ThreadNotice]:
    return list(_thread_notices)


def request_form_blocks() -> list[RequestFormBlock]:
    return list(_request_form_blocks)


def confirmation_contents(*, channel: Channel) -> list[ConfirmationContent]:
    return [content for content in _confirmation_contents if channel in content.channels]
