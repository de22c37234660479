"""What erased personal text becomes, in every app's part of an erasure (tickets.erasure starts one)."""

ERASED_TEXT = "[erased]"
