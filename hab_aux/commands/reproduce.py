"""`habaux reproduce`: one of the paper's ablations end to end (data, training, eval, report beside the paper)."""

import inspect
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hab_aux.reproduction.ablations import ABLATIONS, SCALES, get_ablation, get_scale
from hab_aux.reproduction.definition import Reproduction

_ABLATIONS_HELP = "; ".join(f"{a.name}: {a.summary}" for a in ABLATIONS.values())


def command(
    ablation: Annotated[str, typer.Argument(help=f"Which ablation. {_ABLATIONS_HELP}.", show_default=False)],
    scale: Annotated[str, typer.Option(help=f"{', '.join(SCALES)}: what each costs is below.", show_default=False)],
    out: Annotated[Path | None, typer.Option(help="Reproduction folder (default: reproduce/ABLATION-SCALE); rerun to resume.")] = None,
    episodes_eval: Annotated[int, typer.Option(help="Val episodes per column and row (the paper: 30).")] = Reproduction.episodes_eval,
    reuse_data: Annotated[str | None, typer.Option(help="Comma-separated dataset folders (one or more per task of the ablation), used instead of generating.")] = None,
    workers: Annotated[int, typer.Option(help="Generation worker processes.")] = Reproduction.workers,
) -> None:
    """Reproduce an ablation: generate (or reuse) its data, train every recipe with the same data and budget,
    evaluate each row on val layouts and write OUT/report.md (ours beside the paper's) and the evals' JSON.

    A rerun of the same command skips finished stages and resumes an interrupted one.
    """
    from hab_aux.reproduction.run import reproduce  # torch and the simulator: only when it runs

    the_ablation, the_scale = get_ablation(ablation), get_scale(scale)
    rep = Reproduction(
        the_ablation, the_scale, out or Path("reproduce") / f"{the_ablation.name}-{the_scale.name}", episodes_eval,
        tuple(Path(p.strip()) for p in (reuse_data or "").split(",") if p.strip()), workers,
    )  # fmt: skip
    console = Console()
    report = reproduce(rep, console)
    console.print(f"wrote {report}")


command.__doc__ = inspect.cleandoc(command.__doc__) + "\n\n" + "\n\n".join(f"--scale {s.name}: {s.cost}." for s in SCALES.values())
