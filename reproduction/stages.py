"""The stages of a reproduction: their names, their records, and the config (and equivalent command) each runs.

A stage is done when its record OUT/stages/<stage>.json exists: a rerun skips it. Every stage
name is built here, so the driver (run.py) and the report (report.py) agree on them.
"""

import json
import shlex
import time
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path

from hab_aux.eval.config import EvalConfig
from hab_aux.reproduction.ablations import DataSpec, Row
from hab_aux.reproduction.definition import Reproduction
from hab_aux.store.layout import write_json_atomic
from hab_aux.train.config import TrainConfig


def data_stage(data: DataSpec) -> str:
    return f"data-{data.task}"


def train_stage(recipe: str) -> str:
    return f"train-{recipe}"


def eval_stage(rep: Reproduction, row: Row, data: DataSpec) -> str:
    return f"eval-{row.slug}-{data.task}-{rep.episodes_eval}ep"


def _record_path(out: Path, stage: str) -> Path:
    return out / "stages" / f"{stage}.json"


def stage_record(out: Path, stage: str) -> dict | None:
    path = _record_path(out, stage)
    return json.loads(path.read_text()) if path.exists() else None


def finish_stage(out: Path, stage: str, started: float, **fields) -> None:
    (out / "stages").mkdir(parents=True, exist_ok=True)
    record = {"stage": stage, "wall_s": round(time.time() - started, 1),
              "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), **fields}  # fmt: skip
    write_json_atomic(_record_path(out, stage), record)


def generate_command(data: DataSpec, episodes: int, out: Path, workers: int) -> str:
    args = ["habaux", "generate", "--task", data.task, "--episodes", str(episodes), "--out", str(out)]
    if data.subtasks:
        args += ["--subtasks", ",".join(data.subtasks)]
    return shlex.join(args + (["--workers", str(workers)] if workers != 1 else []))


def train_config(rep: Reproduction, recipe: str) -> TrainConfig:
    s = rep.scale
    return TrainConfig(
        data=tuple(str(p) for folders in rep.datasets.values() for p in folders), out=str(rep.run_dir(recipe)), preset=s.preset,
        recipe=recipe, schedule=s.schedule(rep.ablation, recipe), batch_size=s.batch_size, grad_accum=s.grad_accum,
        lr=s.lr, num_workers=s.loader_workers, save_every=s.save_every,
    )  # fmt: skip


def train_command(config: TrainConfig) -> str:
    """`habaux train` with every setting of `config` spelled out (unset ones, None or empty, left off)."""
    args = ["habaux", "train"]
    for field in fields(TrainConfig):
        value = getattr(config, field.name)
        if field.name == "data":
            args += ["--data", ",".join(value)]
        elif field.name == "overrides":
            args += [arg for item in value for arg in ("--set", item)]
        elif value is not None:
            args += [f"--{field.name.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(args)


def eval_config(rep: Reproduction) -> EvalConfig:
    return EvalConfig(episodes=rep.episodes_eval, split="val", max_steps=rep.scale.eval_max_steps)
