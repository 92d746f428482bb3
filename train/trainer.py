"""The training loop: progressive stages as data, gradient accumulation, DDP or FSDP, exact resume, logs.

Batch b of the run is a pure function of (datasets, seed, b) (`StepSamples.batch_indices`), so the
data position of a resumed run is its step count; together with the saved model, optimizer and
RNG states, 2 steps + resume + 2 steps equals 4 steps.
Under torchrun each rank reads every world-size-th batch; DDP or FSDP (`parallel.py`) averages the gradients.
"""

import os
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from hab_aux.devices import check_device
from hab_aux.errors import environmental_faults
from hab_aux.schema import QPOS_NO_BASE
from hab_aux.train.checkpoint import load_weights, quiet_transformers
from hab_aux.train.config import TrainConfig
from hab_aux.train.data import SampleSpec, StepSamples, quantiles
from hab_aux.train.labels import LABEL_ALLOCATIONS
from hab_aux.train.metrics import MetricsLog
from hab_aux.train.model.action_tokenizer import ActionStats, ProprioStats
from hab_aux.train.model.build import build_model, make_processor
from hab_aux.train.packed import PackedBatch
from hab_aux.train.parallel import check_strategy, for_stage, load_state_dicts, shard, state_dicts
from hab_aux.train.presets import get_preset, override
from hab_aux.train.recipes import get_recipe, parse_schedule, stage_at, total_steps
from hab_aux.train.run_dir import (
    check_run,
    latest_checkpoint,
    load_state,
    prune_checkpoints,
    save_checkpoint,
    save_state,
    write_identity,
)

CACHE = Path(os.environ.get("HABAUX_CACHE", Path.home() / ".cache" / "hab-aux"))


class _BatchNumbers(torch.utils.data.Sampler):
    """Batch numbers for this rank from `start` on, without end."""

    def __init__(self, start: int, rank: int, world: int):
        self.start, self.rank, self.world = start, rank, world

    def __iter__(self):
        b = self.start
        while True:
            yield b * self.world + self.rank
            b += 1


class _Collate:
    def __init__(self, processor):
        self.processor = processor

    def __call__(self, samples: list[dict]) -> PackedBatch:
        return PackedBatch.pack(self.processor(samples))


def _device(name: str) -> torch.device:
    check_device(name)
    if name == "auto":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if torch.cuda.is_available() else torch.device("cpu")
    return torch.device(name)


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world > 1 and not torch.distributed.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (torch.distributed.get_rank() if world > 1 else 0), world


def build_run(config: TrainConfig, world: int):
    """Model config, samples, (action stats, proprio stats or None) and steps per epoch for a run."""
    recipe = get_recipe(config.recipe)
    # Overrides come last: `--set decoders.X.enabled=false` or `flow.enabled` must win over the recipe's choice.
    model_config = override(recipe.model_config(get_preset(config.preset)), list(config.overrides))
    phases = parse_schedule(recipe, config.schedule)
    for phase in phases:
        model_config.stage(phase.stage)  # unknown stage names fail here, with the valid ones
    spec = SampleSpec(
        obs_keys=model_config.inputs.image_keys(),
        label_keys=tuple(dict.fromkeys(d.target for d in model_config.enabled_decoders)),
        history=model_config.inputs.history,
        chunk=max(model_config.flow.chunk if model_config.flow.enabled else 1, model_config.action.chunk),
        allocation=LABEL_ALLOCATIONS[config.labels],
        subtasks=recipe.subtasks,
        shift=config.shift,
        proprio=model_config.inputs.proprio,
    )
    paths = [Path(p) for p in config.data]
    samples = StepSamples(paths, spec, config.batch_size, config.seed, decoded=CACHE if config.decoded_cache else None)
    stats = ActionStats(*quantiles(paths, "action", CACHE))
    proprio_stats = ProprioStats(*quantiles(paths, "qpos", CACHE, QPOS_NO_BASE)) if model_config.inputs.proprio else None
    steps_per_epoch = max(1, samples.batches_per_epoch() // (config.grad_accum * world))
    return model_config, phases, samples, (stats, proprio_stats), steps_per_epoch


def _save(run: Path, model, model_state: dict, optimizer_state: dict, step: int, config: TrainConfig, ema) -> None:
    """State, then checkpoint, then pruning; a full or read-only disk stops the run with one line,
    the previous state and checkpoints intact (each save is atomic or removed when partial). With
    `ema` the checkpoint holds the averaged weights and the state both."""
    def stopped(what: str) -> str:
        pointer = run / "checkpoints" / "latest"
        kept = pointer.read_text().strip() if pointer.exists() else "none"
        return (f"saving step {step} of {run} failed: {what}; its training state and checkpoints are intact up to "
                f"the last complete save (checkpoint {kept}): free space and rerun with --resume")

    with environmental_faults(stopped):
        save_state(run, model_state, optimizer_state, step, None if ema is None else ema.state_dict())
        if ema is None:
            save_checkpoint(run, model, step, model_state)
        else:
            save_checkpoint(run, ema.module, step)
        prune_checkpoints(run, config.keep_last, config.keep_every)


def train(config: TrainConfig, console: Console, resume: bool = False) -> Path:
    """Train (or resume) a run; return the final inference checkpoint folder."""
    quiet_transformers()
    # Batches reach this process from the loader workers by shared-memory file name, not by passing
    # a file descriptor through a socket to the worker: a shorter handover, part of what took
    # `tiny`'s data wait under 5% (benchmarks/results.md); torch's shm manager removes the files of
    # killed workers.
    torch.multiprocessing.set_sharing_strategy("file_system")
    rank, world = _distributed()
    check_strategy(config.strategy, world)
    run, device = Path(config.out), _device(config.device)
    identity = config.identity(world)
    check_run(run, identity, resume, TrainConfig.identity_defaults())
    model_config, phases, samples, stats, steps_per_epoch = build_run(config, world)
    last = total_steps(phases, steps_per_epoch)
    if config.max_steps is not None:
        last = min(last, config.max_steps)
    torch.manual_seed(config.seed)
    model = build_model(model_config, *stats)
    if config.init_from is not None and not resume:  # a resumed run's state holds its weights
        load_weights(model, config.init_from)
    model = model.to(device)
    # diffusion_policy and openpi evaluate an average of the weights; the first update copies them.
    # Only rank 0 saves, so only rank 0 keeps one (DDP keeps every rank's weights equal).
    keeps_ema = config.ema_decay is not None and rank == 0
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True) if keeps_ema else None
    if config.strategy == "fsdp":
        shard(model, device)
    # one kernel, not a loop over tensors; the learning rate is set every step (warm-up, decay)
    optimizer = torch.optim.Adam(model.parameters(), lr=model_config.optim.lr_at(0, last, config.lr), fused=True)
    step = 0
    if resume:
        state = load_state(run)
        load_state_dicts(model, optimizer, config.strategy, state["model"], state["optimizer"])
        step = state["step"]
        if ema is not None:  # --ema-decay is part of the run's identity: its state has the average (rank 0's)
            ema.load_state_dict(state["ema"])
    if rank == 0:
        write_identity(run, identity)
    loader = torch.utils.data.DataLoader(
        samples, batch_size=None, sampler=_BatchNumbers(step * config.grad_accum, rank, world),
        collate_fn=_Collate(make_processor(model)), num_workers=config.num_workers,
        prefetch_factor=4 if config.num_workers else None, pin_memory=device.type == "cuda",
        generator=torch.Generator().manual_seed(config.seed),  # not the global RNG: resume restores that one exactly
    )  # fmt: skip
    batches = iter(loader)
    log = MetricsLog(run, enabled=rank == 0)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    stage_name, wrapped = None, model
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, disable=rank != 0) as progress:
        bar = progress.add_task(f"{config.recipe} ({config.preset})", total=last, completed=step, info="")
        while step < last:
            stage = stage_at(phases, steps_per_epoch, step)
            if stage != stage_name:  # a new stage decides which parameters train
                stage_name = stage
                model.set_stage(model_config.stage(stage))
                wrapped = for_stage(model, config.strategy, world)
            started, waited = time.perf_counter(), 0.0
            optimizer.zero_grad(set_to_none=True)
            sums: dict[str, float] = {}
            for _ in range(config.grad_accum):
                t = time.perf_counter()
                batch = next(batches).unpack(device)
                waited += time.perf_counter() - t
                with autocast:
                    losses = wrapped(batch, stage)
                (losses["total"] / config.grad_accum).backward()
                for k, v in losses.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach()) / config.grad_accum
            for group in optimizer.param_groups:
                group["lr"] = model_config.optim.lr_at(step, last, config.lr)
            optimizer.step()
            if ema is not None:
                ema.update_parameters(model)
            step += 1
            elapsed = time.perf_counter() - started
            record = {"stage": stage, "epoch": step / steps_per_epoch, "lr": optimizer.param_groups[0]["lr"],
                      **{f"loss/{k}": v for k, v in sums.items()},
                      "samples_per_s": config.batch_size * config.grad_accum * world / elapsed,
                      "data_wait_fraction": waited / elapsed}  # fmt: skip
            log.log(step, record)
            progress.update(bar, completed=step, info=f"{stage} loss {sums['total']:.4f}")
            if step % config.save_every == 0 or step == last:
                model_state, optimizer_state = state_dicts(model, optimizer, config.strategy)  # FSDP: all ranks gather
                if rank == 0:
                    _save(run, model, model_state, optimizer_state, step, config, ema)
    log.close()
    if world > 1:
        torch.distributed.barrier()
    return latest_checkpoint(run)
