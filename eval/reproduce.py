"""Run an ablation end to end: data, one training run per recipe, evaluation of every row, the report.

    OUT/
      reproduce.json          what defines the reproduction; a rerun must match it
      data/<task>/            generated datasets (unless --reuse-data)
      runs/<recipe>/          training runs (habaux train's layout)
      evals/<row>/<task>-<N>ep.json   habaux eval's JSON, one per row and task
      stages/<stage>.json     one per finished stage: its wall time (and equivalent command)
      report.md               ours beside the paper's, with the setup (eval/reproduce_report.py)

A stage is done when its record exists: a rerun skips it. An interrupted generation resumes
(generate's own exact resume) and an interrupted training run resumes from its saved state.
"""

import json
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hab_aux.errors import UserError
from hab_aux.eval.ablations import Ablation, DataSpec, Row, Scale
from hab_aux.store import open_dataset
from hab_aux.store.layout import write_json_atomic
from hab_aux.tasks import SUBTASKS, get_task

IDENTITY = "reproduce.json"


@dataclass(frozen=True)
class Reproduction:
    ablation: Ablation
    scale: Scale
    out: Path
    episodes_eval: int = 30
    reuse_data: tuple[Path, ...] = ()  # datasets (one or more per task of the ablation), instead of generating
    workers: int = 1  # generation worker processes

    def __post_init__(self):
        if self.episodes_eval < 1:
            raise UserError(f"--episodes-eval must be at least 1, got {self.episodes_eval}")

    def command(self) -> str:
        args = ["habaux", "reproduce", self.ablation.name, "--scale", self.scale.name, "--out", str(self.out),
                "--episodes-eval", str(self.episodes_eval)]  # fmt: skip
        if self.reuse_data:
            args += ["--reuse-data", ",".join(str(p) for p in self.reuse_data)]
        if self.workers != 1:
            args += ["--workers", str(self.workers)]
        return shlex.join(args)

    def identity(self) -> dict:
        """What the stages' results depend on, as JSON reads it back (the eval episodes count names its files)."""
        ablation = {k: v for k, v in asdict(self.ablation).items() if k != "summary"}
        return json.loads(json.dumps({"ablation": ablation, "scale": self.scale.identity(),
                                      "reuse_data": [str(p.resolve()) for p in self.reuse_data]}))  # fmt: skip

    @cached_property
    def datasets(self) -> dict[DataSpec, tuple[Path, ...]]:
        """The dataset folders of each data spec: reused (matched by task; a task may have several,
        e.g. one generated per column) or OUT/data/<task>."""
        if not self.reuse_data:
            return {d: (self.out / "data" / d.task,) for d in self.ablation.data}
        wanted = [d.task for d in self.ablation.data]
        found: dict[str, list[Path]] = {}
        for path in self.reuse_data:
            manifest = path / "manifest.json"
            if not manifest.exists():
                raise UserError(f"--reuse-data {path} is not a hab-aux dataset (no manifest.json)")
            tasks = json.loads(manifest.read_text())["tasks"]
            if len(tasks) != 1 or tasks[0] not in wanted:
                raise UserError(f"--reuse-data needs datasets of one task each, of {self.ablation.name}'s tasks "
                                f"({', '.join(wanted)}); {path} holds {', '.join(tasks) or 'no task'}")  # fmt: skip
            found.setdefault(tasks[0], []).append(path)
        if missing := [t for t in wanted if t not in found]:
            raise UserError(f"--reuse-data lacks a dataset of {', '.join(missing)} (ablation {self.ablation.name})")
        for data in self.ablation.data:
            for path in found[data.task]:
                extra = sorted(set(open_dataset(path).meta_column("subtask").tolist()) - set(data.subtasks or SUBTASKS))
                if extra:
                    raise UserError(f"--reuse-data {path} holds {', '.join(extra)} episodes; ablation "
                                    f"{self.ablation.name} trains on {', '.join(data.subtasks)} of {data.task} only")  # fmt: skip
        return {d: tuple(found[d.task]) for d in self.ablation.data}

    def run_dir(self, recipe: str) -> Path:
        return self.out / "runs" / recipe

    def eval_json(self, row: Row, task: str) -> Path:
        return self.out / "evals" / row.slug / f"{task}-{self.episodes_eval}ep.json"


def stage_record(out: Path, stage: str) -> dict | None:
    path = out / "stages" / f"{stage}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _finish(out: Path, stage: str, started: float, **fields) -> None:
    (out / "stages").mkdir(parents=True, exist_ok=True)
    record = {"stage": stage, "wall_s": round(time.time() - started, 1),
              "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), **fields}  # fmt: skip
    write_json_atomic(out / "stages" / f"{stage}.json", record)


def _check_out(rep: Reproduction) -> None:
    """A new reproduction needs an empty or new folder; a rerun the same identity."""
    path = rep.out / IDENTITY
    identity = rep.identity()
    if path.exists():
        old = json.loads(path.read_text())
        if old != identity:
            raise UserError(f"--out {rep.out} holds a reproduction with other options ({old['ablation']['name']}, scale "
                            f"{old['scale']['name']}); rerun it with the same options or choose another --out")  # fmt: skip
    elif rep.out.exists() and any(rep.out.iterdir()):
        raise UserError(f"--out {rep.out} is not empty and holds no reproduction; choose an empty or new folder")
    rep.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, identity)


def generate_command(data: DataSpec, episodes: int, out: Path, workers: int) -> str:
    args = ["habaux", "generate", "--task", data.task, "--episodes", str(episodes), "--out", str(out)]
    if data.subtasks:
        args += ["--subtasks", ",".join(data.subtasks)]
    return shlex.join(args + (["--workers", str(workers)] if workers != 1 else []))


def _data(rep: Reproduction, console: Console) -> None:
    from hab_aux.generate.plan import GenerateConfig
    from hab_aux.generate.run import Launch, generate

    for data, folders in rep.datasets.items():
        stage, folder = f"data-{data.task}", folders[0]
        if rep.reuse_data or stage_record(rep.out, stage):
            console.print(f"[dim]skip {stage}: {'reused' if rep.reuse_data else 'done'} ({', '.join(map(str, folders))})[/dim]")
            continue
        episodes = rep.scale.episodes(rep.ablation, data)
        started = time.time()
        subtasks = ",".join(data.subtasks) if data.subtasks else None
        generate(GenerateConfig.parse(data.task, subtasks), Launch(episodes=episodes, out=folder, workers=rep.workers), console)
        _finish(rep.out, stage, started, command=generate_command(data, episodes, folder, rep.workers))


def train_config(rep: Reproduction, recipe: str):
    from hab_aux.train.trainer import TrainConfig

    s = rep.scale
    return TrainConfig(
        data=tuple(str(p) for folders in rep.datasets.values() for p in folders), out=str(rep.run_dir(recipe)), preset=s.preset,
        recipe=recipe, schedule=s.schedule(rep.ablation, recipe), batch_size=s.batch_size, grad_accum=s.grad_accum,
        lr=s.lr, num_workers=s.loader_workers, save_every=s.save_every,
    )  # fmt: skip


def train_command(config) -> str:
    return shlex.join(["habaux", "train", "--data", ",".join(config.data), "--out", config.out, "--preset", config.preset,
                       "--recipe", config.recipe, "--schedule", config.schedule, "--batch-size", str(config.batch_size),
                       "--grad-accum", str(config.grad_accum), "--lr", f"{config.lr:g}", "--seed", str(config.seed),
                       "--num-workers", str(config.num_workers), "--save-every", str(config.save_every)])  # fmt: skip


def _train(rep: Reproduction, console: Console) -> None:
    from hab_aux.train.run_dir import CONFIG, STATE
    from hab_aux.train.trainer import train

    for recipe in rep.ablation.recipes:
        stage, run = f"train-{recipe}", rep.run_dir(recipe)
        if stage_record(rep.out, stage):
            console.print(f"[dim]skip {stage}: done ({run})[/dim]")
            continue
        resume = (run / STATE).exists()
        if not resume and (run / CONFIG).exists():
            console.print(f"{run} stopped before its first saved state; starting it again")
            shutil.rmtree(run)
        config = train_config(rep, recipe)
        started = time.time()
        checkpoint = train(config, console, resume=resume)
        _finish(rep.out, stage, started, command=train_command(config) + (" --resume" if resume else ""),
                checkpoint=str(checkpoint), resumed=resume)  # fmt: skip


def eval_config(rep: Reproduction):
    from hab_aux.eval.harness import EvalConfig

    return EvalConfig(episodes=rep.episodes_eval, split="val", max_steps=rep.scale.eval_max_steps)


def _evaluate(rep: Reproduction, console: Console, make_env: Callable | None) -> None:
    import torch

    from hab_aux.eval.harness import evaluate_task
    from hab_aux.eval.policies import checkpoint_factory
    from hab_aux.eval.report import write_json

    device = "cuda" if torch.cuda.is_available() else "cpu"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    for row in rep.ablation.rows:
        factory = None  # loaded once per row, only if one of its evaluations is owed
        for data in rep.ablation.data:
            stage = f"eval-{row.slug}-{data.task}-{rep.episodes_eval}ep"
            if stage_record(rep.out, stage):
                console.print(f"[dim]skip {stage}: done ({rep.eval_json(row, data.task)})[/dim]")
                continue
            factory = factory or checkpoint_factory(rep.run_dir(row.recipe), row.head, device)
            task = replace(get_task(data.task), columns=data.columns)
            started = time.time()
            with Progress(*columns, console=console, transient=True) as progress:
                results = evaluate_task(task, {row.label: factory}, eval_config(rep), progress, make_env)
            write_json(rep.eval_json(row, data.task), data.task, "val", results)
            _finish(rep.out, stage, started, json=str(rep.eval_json(row, data.task)))


def reproduce(rep: Reproduction, console: Console, make_env: Callable | None = None) -> Path:
    """Run (or resume) every stage of the reproduction; return OUT/report.md.

    `make_env` replaces the simulator's env in evaluation (tests pass a fake).
    """
    from hab_aux.eval.reproduce_report import write_report

    rep.datasets  # check --reuse-data before anything runs
    _check_out(rep)
    _data(rep, console)
    _train(rep, console)
    _evaluate(rep, console, make_env)
    return write_report(rep)
