"""User mistakes raise `UserError`; the CLI prints its message on one line, without a traceback."""

from collections.abc import Iterable


class UserError(Exception):
    """A bad value from the user: the message names it and what would be accepted."""


def choose(kind: str, value: str, valid: Iterable[str]) -> str:
    """Return `value` if it is one of `valid`, else raise a one-line UserError listing them."""
    valid = list(valid)
    if value not in valid:
        raise UserError(f"unknown {kind} {value!r}; valid: {', '.join(valid)}")
    return value
