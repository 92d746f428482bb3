"""`habaux`: the command-line entry point.

Each command lives in `hab_aux.commands.<name>` and imports the simulator or torch only inside
its body, so `habaux --help` is fast and the trainer's commands run without SAPIEN installed.
User mistakes (`UserError`) print one red line and exit 2, faults of the machine (`Fault`: a full
disk, a dead worker) one line and exit 1, with no traceback.
"""

import sys

import typer
from rich.console import Console

from hab_aux.commands import doctor, generate, train
from hab_aux.commands import eval as evaluate
from hab_aux.commands import model_info
from hab_aux.commands import inspect
from hab_aux.commands import card
from hab_aux.commands import export
from hab_aux.commands import reproduce
from hab_aux.errors import Fault, UserError

app = typer.Typer(
    name="habaux",
    help="Spatially grounded robot learning: generate, inspect, train and evaluate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("doctor")(doctor.command)
app.command("inspect")(inspect.command)
app.command("card")(card.command)
app.command("export")(export.command)
app.command("model-info")(model_info.command)
app.command("eval")(evaluate.command)
app.command("generate")(generate.command)
app.command("train")(train.command)
app.command("plot")(train.plot_command)
app.command("publish")(train.publish_command)
app.command("reproduce")(reproduce.command)


@app.callback()
def _group() -> None:
    """Spatially grounded robot learning: generate, inspect, train and evaluate."""


def main() -> None:
    try:
        app()
    except UserError as err:
        Console(stderr=True).print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except Fault as err:
        Console(stderr=True).print(f"[red]stopped:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(1)
