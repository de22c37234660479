class DomainError(Exception):
    """A request the domain refuses (invalid transition, bad input). The message is safe to show to the user."""
