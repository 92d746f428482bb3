"""Run an ablation end to end: data, one training run per recipe, evaluation of every row, the report.

Each stage is skipped once recorded (stages.py). An interrupted generation resumes (generate's
own exact resume) and an interrupted training run resumes from its saved state. The folder's
layout is definition.py's.
"""

import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hab_aux.reproduction.definition import Reproduction, check_out
from hab_aux.reproduction.report import write_report
from hab_aux.reproduction.stages import (
    data_stage,
    eval_config,
    eval_stage,
    finish_stage,
    generate_command,
    stage_record,
    train_command,
    train_config,
    train_stage,
)
from hab_aux.tasks import get_task


def _data(rep: Reproduction, console: Console) -> None:
    from hab_aux.generate.plan import GenerateConfig
    from hab_aux.generate.run import Launch, generate

    for data, folders in rep.datasets.items():
        stage, folder = data_stage(data), folders[0]
        if rep.reuse_data or stage_record(rep.out, stage):
            console.print(f"[dim]skip {stage}: {'reused' if rep.reuse_data else 'done'} ({', '.join(map(str, folders))})[/dim]")
            continue
        episodes = rep.scale.episodes(rep.ablation, data)
        started = time.time()
        subtasks = ",".join(data.subtasks) if data.subtasks else None
        generate(GenerateConfig.parse(data.task, subtasks), Launch(episodes=episodes, out=folder, workers=rep.workers), console)
        finish_stage(rep.out, stage, started, command=generate_command(data, episodes, folder, rep.workers))


def _train(rep: Reproduction, console: Console) -> None:
    from hab_aux.train.run_dir import CONFIG, STATE
    from hab_aux.train.trainer import train

    for recipe in rep.ablation.recipes:
        stage, run = train_stage(recipe), rep.run_dir(recipe)
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
        finish_stage(rep.out, stage, started, command=train_command(config) + (" --resume" if resume else ""),
                     checkpoint=str(checkpoint), resumed=resume)  # fmt: skip


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
            stage = eval_stage(rep, row, data)
            if stage_record(rep.out, stage):
                console.print(f"[dim]skip {stage}: done ({rep.eval_json(row, data.task)})[/dim]")
                continue
            factory = factory or checkpoint_factory(rep.run_dir(row.recipe), row.head, device)
            task = replace(get_task(data.task), columns=data.columns)
            started = time.time()
            with Progress(*columns, console=console, transient=True) as progress:
                results = evaluate_task(task, {row.label: factory}, eval_config(rep), progress, make_env)
            write_json(rep.eval_json(row, data.task), data.task, "val", results)
            finish_stage(rep.out, stage, started, json=str(rep.eval_json(row, data.task)))


def reproduce(rep: Reproduction, console: Console, make_env: Callable | None = None) -> Path:
    """Run (or resume) every stage of the reproduction; return OUT/report.md.

    `make_env` replaces the simulator's env in evaluation (tests pass a fake).
    """
    rep.datasets  # check --reuse-data before anything runs
    check_out(rep)
    _data(rep, console)
    _train(rep, console)
    _evaluate(rep, console, make_env)
    return write_report(rep)
