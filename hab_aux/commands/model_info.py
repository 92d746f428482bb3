"""`habaux model-info`: parameter count per SG-VLA component, counted on the `meta` device."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


# Written by benchmarks/training_inference.py, one entry per preset it measured.
THROUGHPUT = Path(__file__).resolve().parents[2] / "benchmarks" / "throughput.json"


def measured_speed(preset: str, path: Path = THROUGHPUT) -> str:
    """The preset's measured training speed with how it was measured, or how to measure it."""
    entry = json.loads(path.read_text()).get(preset) if path.is_file() else None
    if entry is None:
        return f"Training speed of {preset}: not measured yet (python benchmarks/training_inference.py --preset {preset} ...)."
    return (f"Training speed of {preset}: {entry['steps_per_s']:.2f} steps/s at batch {entry['batch']}, "
            f"{entry['threads']} thread(s), {entry['device']}, measured {entry['measured']} on {entry['machine']} "
            f"by `{entry['command']}`.")  # fmt: skip


def command(
    preset: str = typer.Option("tiny", "--preset", help="preset name (sgvla-1.3b, small, tiny)"),
    overrides: list[str] = typer.Option([], "--set", "-s", help="config override key.path=value (repeatable)"),
) -> None:
    """Print the parameter count of each component (vision encoders, projector, LLM, flow expert, decoders)."""
    from hab_aux.train.model.build import build_meta_model, parameter_counts
    from hab_aux.train.presets import get_preset, override

    cfg = override(get_preset(preset), list(overrides))
    flow_on = cfg.flow.enabled
    # Always build the expert so its size is shown; it counts towards the total only when enabled.
    counts = parameter_counts(build_meta_model(cfg.replace(flow=dataclasses.replace(cfg.flow, enabled=True))))
    if not flow_on:
        counts["total"] -= counts["flow"]
    table = Table(title=f"SG-VLA {cfg.name}: parameters")
    table.add_column("component")
    table.add_column("parameters", justify="right")
    table.add_column("millions", justify="right")
    for name, n in counts.items():
        label = "flow expert (disabled, not in total)" if name == "flow" and not flow_on else name
        label = "flow expert" if name == "flow" and flow_on else label
        style = "bold" if name == "total" else None
        table.add_row(label, f"{n:,}", f"{n / 1e6:.2f}", style=style)
    console = Console()
    console.print(table)
    console.print(
        "Counts come from the architectures' configs (built on the meta device, no weights downloaded); "
        "LLM embeddings use the config's vocabulary size, which holds the 256 added action tokens when it is "
        "large enough (Qwen2.5 pads its vocabulary to 151,936 rows).",
        soft_wrap=True,
    )
    console.print(measured_speed(cfg.name), soft_wrap=True)
