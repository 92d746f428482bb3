"""`habaux train`: progressive three-stage co-training of SG-VLA on generated datasets."""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hab_aux.errors import UserError, choose
from hab_aux.train.config import TrainConfig


def _list_recipes(console: Console) -> None:
    from hab_aux.train.recipes import RECIPES

    table = Table(title="training recipes (habaux train --recipe NAME)")
    for column in ("recipe", "paper row", "decoders", "schedule", "data"):
        table.add_column(column)
    for r in RECIPES.values():
        schedule = " + ".join(f"{p.stage} {p.epochs:g} ep" if p.epochs else f"{p.stage} {p.steps} steps" for p in r.phases)
        data = "pick/place episodes" if r.subtasks else "all episodes"
        table.add_row(r.name, f"{r.paper_row.table}: {r.paper_row.row}", ", ".join(r.decoders) or "-", schedule + (" (flow head)" if r.flow else ""), data)
    console.print(table)
    from hab_aux.train.presets import PRESETS

    # Parameter counts are `habaux model-info`'s: building every preset on `meta` here took 26 s.
    presets = Table(title="model presets (habaux train --preset NAME; parameters: habaux model-info --preset NAME)")
    for column in ("preset", "weights", "vision", "images", "inputs", "lr", "warm-up", "decay"):
        presets.add_column(column)
    for p in PRESETS.values():
        encoders = p.vision.encoders()
        weights = "pretrained (hub or folder)" if any(s.pretrained for s in encoders.values()) else "random init"
        inputs = ", ".join(p.inputs.cameras) + (" + depth" if p.inputs.depth else "") + (" + proprio" if p.inputs.proprio else "")
        presets.add_row(p.name, weights, " + ".join(encoders), f"{p.vision.image_size} px", inputs, f"{p.optim.lr:g}", str(p.optim.warmup_steps),
                        p.optim.decay)  # fmt: skip
    console.print(presets)


def command(
    data: Annotated[str | None, typer.Option(help="Dataset folder(s), comma-separated.")] = None,
    preset: Annotated[str, typer.Option(help="Model preset: small (CPU-scale, random weights), tiny (tests and smoke runs) or sgvla-1.3b (hub or local weights).")] = TrainConfig.preset,
    recipe: Annotated[str, typer.Option(help="Training recipe (see --list).")] = TrainConfig.recipe,
    out: Annotated[Path | None, typer.Option(help="Run folder: checkpoints, state, metrics.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its saved state.")] = False,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many optimizer steps (smoke runs, budgets).")] = TrainConfig.max_steps,
    schedule: Annotated[str | None, typer.Option(help="Stage schedule: adapt=300,joint=700 (steps) or adapt=3ep,joint=7ep.")] = TrainConfig.schedule,
    batch_size: Annotated[int, typer.Option(help="Samples per micro-batch per GPU/process.")] = TrainConfig.batch_size,
    grad_accum: Annotated[int, typer.Option(help="Micro-batches per optimizer step.")] = TrainConfig.grad_accum,
    lr: Annotated[float | None, typer.Option(help="Peak Adam learning rate (default: the preset's; see --list). Warm-up and decay are the preset's.")] = TrainConfig.lr,
    seed: Annotated[int, typer.Option(help="Seed of initialisation and data order.")] = TrainConfig.seed,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Model config override, repeatable: flow.enabled=true, inputs.depth=false, inputs.history=4.")] = None,
    num_workers: Annotated[int, typer.Option(help="Data-loader worker processes.")] = TrainConfig.num_workers,
    save_every: Annotated[int, typer.Option(help="Save state and a checkpoint every N steps (and at the end).")] = TrainConfig.save_every,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = TrainConfig.device,
    strategy: Annotated[str, typer.Option(help="Under torchrun: ddp (a model replica per process) or fsdp (the model sharded, for sgvla-1.3b).")] = TrainConfig.strategy,
    labels: Annotated[str, typer.Option(help="Which episodes train which decoder: paper (SetTable: base pose, grasp, qpos; pick/place: object pose, masks) or all (every episode that records the label).")] = TrainConfig.labels,
    shift: Annotated[int, typer.Option(help="Random-shift augmentation: move each sample's images and masks by up to this many pixels (of the stored 128), 0 = off.")] = TrainConfig.shift,
    keep_last: Annotated[int, typer.Option(help="Keep the newest N checkpoint folders (state.pt for --resume is kept apart).")] = TrainConfig.keep_last,
    keep_every: Annotated[int | None, typer.Option(help="Also keep every checkpoint whose step is a multiple of K.")] = TrainConfig.keep_every,
    decoded_cache: Annotated[bool, typer.Option(help="Decode the data once into uncompressed files under $HABAUX_CACHE (default ~/.cache/hab-aux)/decoded "
                                                     "and read batches from them: less loader work per step, the same batches; needs the "
                                                     "decoded size on disk (5.4 GiB for 32,000 steps of four images and a mask).")] = TrainConfig.decoded_cache,
    ema_decay: Annotated[float | None, typer.Option(help="Keep an exponential moving average of the weights (0.999: over about 1,000 steps); "
                                                       "checkpoints hold the average, RUN/state.pt both. Not with --strategy fsdp.")] = TrainConfig.ema_decay,
    init_from: Annotated[Path | None, typer.Option(help="Start from this checkpoint's weights (a run's checkpoints/step-N or a published one): "
                                                     "fine-tune it on --data, or continue a finished run under a new --schedule. "
                                                     "Same preset and --set overrides; a fresh optimizer and learning-rate schedule.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the recipes and the model presets and exit.")] = False,
) -> None:
    """Train SG-VLA with a named recipe; run under torchrun for several GPUs (DDP, or FSDP with --strategy fsdp)."""
    console = Console()
    if list_:
        _list_recipes(console)
        return
    if not data or out is None:
        raise UserError("--data and --out are required (or --list)")
    from hab_aux.train.trainer import train

    config = TrainConfig(
        data=tuple(p.strip() for p in data.split(",") if p.strip()), out=str(out), preset=preset, recipe=recipe,
        overrides=tuple(set_ or ()), schedule=schedule, batch_size=batch_size, grad_accum=grad_accum, lr=lr,
        seed=seed, max_steps=max_steps, num_workers=num_workers, save_every=save_every, device=device,
        strategy=strategy, labels=labels, shift=shift, keep_last=keep_last, keep_every=keep_every,
        decoded_cache=decoded_cache, ema_decay=ema_decay, init_from=None if init_from is None else str(init_from),
    )  # fmt: skip
    checkpoint = train(config, console, resume=resume)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line, not one per process
        console.print(f"checkpoint: {checkpoint}")


def plot_command(
    runs: Annotated[list[Path], typer.Argument(help="Training run folder(s); several are overlaid.")],
    out: Annotated[Path | None, typer.Option(help="PNG path (default: the first run's losses.png).")] = None,
    smooth: Annotated[int, typer.Option(help="Draw the mean of each window of this many logged steps (1: raw).")] = 1,
    x: Annotated[str, typer.Option("--x", help="Horizontal axis: step, samples (steps x batch x ranks), or minutes of training (summed step times).")] = "step",
    at: Annotated[str | None, typer.Option(help="Also print each run's losses at these points of --x (steps, samples or "
                                                "minutes, comma-separated), the mean of the --smooth logged steps up to each.")] = None,  # fmt: skip
) -> None:
    """Write the loss curves of one or more runs as a PNG (and compare them at equal steps, samples or training time)."""
    from hab_aux.train.metrics import read_metrics
    from hab_aux.train.plot import AXES, axis_values, losses_at, plot_runs

    if smooth < 1:
        raise UserError(f"--smooth must be at least 1, got {smooth}")
    choose("--x", x, AXES)
    points = _points(at) if at else []
    console = Console()
    console.print(f"wrote {plot_runs(runs, out or runs[0] / 'losses.png', smooth, x)}")
    if points:
        table = Table(title=f"losses at equal {'steps' if x == 'step' else x} (mean of {smooth} logged steps)")
        logs = {run: read_metrics(run) for run in runs}  # once per run, not once per point
        xs = {run: axis_values(run, records, x) for run, records in logs.items()}
        rows = [(run.name, m, losses_at(logs[run], xs[run], m, smooth)) for m in points for run in runs]
        keys = list(dict.fromkeys(k for *_, v in rows if v for k in v if k != "step"))
        for column in ("at " + x, "run", "step", *keys):
            table.add_column(column)
        for name, m, v in rows:
            cells = [str(v["step"]), *(f"{v[k]:.3f}" if k in v else "-" for k in keys)] if v else ["not reached"]
            table.add_row(f"{m:g}", name, *cells)
        Console(width=max(console.width, 40 + 11 * len(keys))).print(table)  # one line per row, even in a pipe


def _points(raw: str) -> list[float]:
    try:
        values = [float(v) for v in raw.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"--at takes points of --x (steps, samples or minutes) separated by commas (e.g. 10,20,40), got {raw!r}") from None
    if not values or min(values) <= 0:
        raise UserError(f"--at takes positive points of --x (steps, samples or minutes) separated by commas, got {raw!r}")
    return values


def publish_command(
    source: Annotated[Path, typer.Argument(help="A training run (its latest checkpoint) or a checkpoint folder.")],
    out: Annotated[Path, typer.Argument(help="The new folder (must not exist, unless --replace).")],
    max_mb: Annotated[float, typer.Option(help="Refuse a published checkpoint larger than this many MiB.")] = 10.0,
    replace: Annotated[bool, typer.Option(help="Replace the checkpoint folder OUT once the new one is written.")] = False,
) -> None:
    """Re-save a checkpoint with float16 weights, small enough to keep in a git repository."""
    from hab_aux.train.publish import folder_bytes, publish

    folder = publish(source, out, max_mb, replace)
    Console().print(f"{folder}: {folder_bytes(folder) / 2**20:.2f} MiB")
