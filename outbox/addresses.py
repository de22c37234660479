"""Addresses for email headers, built by the standard library's `email.headerregistry.Address`, never by pasting a
name before `<address>`: a display name with a comma, colon, quote, angle bracket or backslash is quoted and escaped,
a non-ASCII one is encoded when the message is written, and control characters (CR/LF included) fold into one space,
so a name can neither break the header nor start another one."""

from __future__ import annotations

from email.headerregistry import Address


def display_name_clean(name: str) -> str:
    """`name` on one line: every run of whitespace or control characters becomes a single space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())


def mailbox_format(*, name: str, address: str) -> str:
    """`"Name, quoted where needed" <address>` for a From or To header; just the address when the name is empty."""
    return str(Address(display_name=display_name_clean(name), addr_spec=address))
