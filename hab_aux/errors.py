"""User mistakes raise `UserError`, faults of the machine (a full disk, a dead worker) `Fault`;
the CLI prints either message on one line, without a traceback."""

import errno
from collections.abc import Callable, Iterable
from contextlib import contextmanager


class UserError(Exception):
    """A bad value from the user: the message names it and what would be accepted."""


def choose(kind: str, value: str, valid: Iterable[str]) -> str:
    """Return `value` if it is one of `valid`, else raise a one-line UserError listing them."""
    valid = list(valid)
    if value not in valid:
        raise UserError(f"unknown {kind} {value!r}; valid: {', '.join(valid)}")
    return value


class Fault(Exception):
    """The machine failed the run (disk full, read-only or vanished folder, a killed worker): the
    message says what happened and where, what is safely kept, and how to continue."""


# OSErrors that are the machine's state, not a bug: the run stops with one line.
ENVIRONMENTAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.ENOENT, errno.EIO}


def is_environmental(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in ENVIRONMENTAL_ERRNOS


def describe(err: OSError) -> str:
    """'no space left on device (/data/x)' from an OSError."""
    where = f" ({err.filename})" if err.filename else ""
    return f"{(err.strerror or str(err)).lower()}{where}"


@contextmanager
def environmental_faults(message: Callable[[str], str]):
    """Inside, an environmental OSError becomes a one-line `Fault(message(what))`, `what` naming
    the error and its path; any other OSError propagates unchanged."""
    try:
        yield
    except OSError as err:
        if not is_environmental(err):
            raise
        raise Fault(message(describe(err))) from err


def require(module: str, extra: str, purpose: str):
    """Import an optional library, or raise a one-line UserError naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"{purpose} needs {module}: pip install 'hab-aux[{extra}]'") from None
