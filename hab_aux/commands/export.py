"""`habaux export`: a dataset in another tool's format (LeRobot v3), written whole or not at all."""

from pathlib import Path

import typer
from rich.console import Console

from hab_aux.errors import choose

FORMATS = ("lerobot",)


def command(
    dataset: Path = typer.Argument(..., help="dataset folder (holds manifest.json)"),
    format: str = typer.Option("lerobot", "--format", help=f"output format: {', '.join(FORMATS)}"),
    out: Path = typer.Option(..., "--out", help="folder to write (created; must be empty unless --overwrite)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace a non-empty --out once the export is complete"),
) -> None:
    """Export DATASET as a LeRobotDataset v3 folder: videos, state, action, labels, tasks and statistics."""
    from rich.progress import Progress

    from hab_aux.export.lerobot import check_libraries, export_lerobot
    from hab_aux.export.staging import check_out, staged_folder
    from hab_aux.store import open_dataset

    choose("format", format, FORMATS)
    check_out(out, overwrite, dataset)
    ds = open_dataset(dataset)
    check_libraries()
    console = Console()
    with Progress(console=console, transient=True) as progress, staged_folder(out) as stage:
        task = progress.add_task("exporting episodes", total=ds.num_episodes)
        info = export_lerobot(ds, stage, on_episode=lambda _: progress.advance(task))
    videos = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    console.print(
        f"wrote {out}: LeRobotDataset {info['codebase_version']}, {info['total_episodes']} episodes, "
        f"{info['total_frames']} frames at {info['fps']} fps, {info['total_tasks']} tasks, videos {', '.join(videos)}"
    )
