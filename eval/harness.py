"""Evaluate policies on every column of a task: episodes on fixed layouts, one env per column."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from hab_aux.errors import UserError, choose
from hab_aux.eval.policies import PolicyFactory
from hab_aux.eval.report import ColumnResult
from hab_aux.eval.rollout import run_batch
from hab_aux.eval.video import side_by_side, write_video
from hab_aux.generate.plan import WORLDS
from hab_aux.tasks import MAX_EPISODE_STEPS, Column, Task, seed_range, select_columns


@dataclass(frozen=True)
class EvalConfig:
    episodes: int = 30
    split: str = "val"
    seed: int = 0  # offset into the split's layout seeds: episode i uses layout start + seed + i
    sim_backend: str = "cpu"
    num_envs: int = 1
    max_steps: int = MAX_EPISODE_STEPS
    video_dir: Path | None = None
    world: str = "procedural"  # hab_aux.generate.plan.WORLDS

    def __post_init__(self):
        if self.episodes < 1:
            raise UserError(f"--episodes must be at least 1, got {self.episodes}")
        choose("world", self.world, WORLDS)
        if self.num_envs < 1:
            raise UserError(f"--num-envs must be at least 1, got {self.num_envs}")
        start, stop = seed_range(self.split)
        if not 0 <= self.seed <= stop - start - self.episodes:
            raise UserError(f"--seed {self.seed} is outside the {self.split} layouts: 0..{stop - start - self.episodes}")


def layout_seeds(config: EvalConfig) -> list[int]:
    """The same layouts for every column and policy, so rows are comparable."""
    start, _ = seed_range(config.split)
    return [start + config.seed + i for i in range(config.episodes)]


def evaluate_column(
    task: Task,
    column: Column,
    make_policy: PolicyFactory,
    config: EvalConfig,
    progress: Progress | None = None,
    label: str = "",
    make_env: Callable | None = None,
) -> ColumnResult:
    """`make_env` defaults to the simulator's env factory of `config.world` (tests pass a fake)."""
    if make_env is None:
        from hab_aux.generate.envs import MAKE_ENV  # the simulator, only when evaluating

        make_env = MAKE_ENV[config.world]

    video = config.video_dir is not None
    env = make_env(task.name, column.subtask, column.articulation, sim_backend=config.sim_backend,
                           num_envs=config.num_envs, third_person=video)  # fmt: skip
    frame_fn = (lambda obs: side_by_side(obs, env.render_third_person())) if video else None
    seeds = layout_seeds(config)
    results = []
    bar = progress.add_task(f"{label} {column.name}", total=len(seeds)) if progress else None
    try:
        policies = [make_policy(env, k, column) for k in range(env.num_envs)]
        for i in range(0, len(seeds), env.num_envs):
            batch = seeds[i : i + env.num_envs]
            results.extend(run_batch(env, policies, batch, batch, max_steps=config.max_steps, frame_fn=frame_fn))
            if progress:
                progress.update(bar, completed=len(results))
    finally:
        env.close()
    if video:
        for r in results:
            name = f"{task.name}_{column.name.replace(' ', '_')}_{r.info.layout_seed}_{'ok' if r.success else 'fail'}.mp4"
            write_video(config.video_dir / name, r.frames)
            r.frames.clear()
    return ColumnResult(column.name, results)


def evaluate_task(task: Task, policies: dict[str, PolicyFactory], config: EvalConfig,
                  progress: Progress | None = None, make_env: Callable | None = None,
                  subtasks: tuple[str, ...] | None = None) -> dict[str, list[ColumnResult]]:  # fmt: skip
    """Success per column (of `subtasks`: subtasks or column keys, default all) for each named policy:
    {policy: [ColumnResult per column]}."""
    columns = select_columns(task, subtasks)
    return {
        name: [evaluate_column(task, column, factory, config, progress, name, make_env) for column in columns]
        for name, factory in policies.items()
    }
