"""An output folder written whole or not at all, never at the cost of data already there.

The export goes to a hidden sibling folder and is renamed into place only once complete; with
--overwrite the previous folder is moved aside first and deleted last, so an interrupted export
leaves the old one (or nothing) in place, never a half-written one.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from hab_aux.errors import UserError, environmental_faults


def check_out(out: Path, overwrite: bool, source: Path) -> None:
    """One-line errors for an --out that is a file, holds data (without --overwrite), or overlaps the source."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UserError(f"--out {out} exists and is not empty: pass --overwrite to replace it, or choose another folder")
    a, b = out.resolve(), source.resolve()
    if a == b or a in b.parents or b in a.parents:
        raise UserError(f"--out {out} overlaps the dataset {source}: choose a folder outside it")


@contextmanager
def staged_folder(out: Path):
    """Yield an empty temporary folder; on success it becomes `out` (replacing any folder there)."""
    stage, aside = (out.parent / f".{out.name}.{kind}-{os.getpid()}" for kind in ("partial", "replaced"))
    with environmental_faults(lambda what: f"export stopped: {what}; {out} is unchanged"):
        stage.mkdir(parents=True)
        try:
            yield stage
            if out.exists():
                os.rename(out, aside)
            try:
                os.rename(stage, out)
            except OSError:
                if aside.exists():
                    os.rename(aside, out)
                raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)
