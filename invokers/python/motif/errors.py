"""`motif.Error`: a handler's failure with the status it chooses."""

from __future__ import annotations


class Error(Exception):
    """Raise it to answer with `status` (4xx or 5xx; anything else becomes 500) and a
    problem whose `detail` is `message`.

    The message is said to the caller, so it must hold no secrets. Any other exception
    a handler raises is a 500 carrying the exception's message (its traceback goes to the
    logs only).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status if isinstance(status, int) and 400 <= status <= 599 else 500
        self.message = message
