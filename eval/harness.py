"""Evaluate policies on every column of a task: episodes on fixed layouts, one env per column.

Episodes come from the split's layouts (`layout_seeds`), or from a dataset's recorded episodes
(`EvalConfig.episodes_from`: the same layout and episode seeds, so a policy can be checked on the
very episodes it was trained on). With `workers > 1` each column's episodes are cut into
contiguous chunks that run in separate processes; an episode's outcome depends only on its seeds,
so the results equal a single process's.
"""

import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from rich.progress import Progress

from hab_aux.errors import UserError
from hab_aux.generate.policies import PolicyFactory
from hab_aux.eval.config import EvalConfig
from hab_aux.eval.report import ColumnResult
from hab_aux.eval.video import side_by_side, write_strip
from hab_aux.inspect.video import write_video
from hab_aux.rollout import EpisodeResult, run_batch
from hab_aux.tasks import Column, Task, seed_range, select_columns

SeedPair = tuple[int, int]  # (layout seed, episode seed)


def layout_seeds(config: EvalConfig) -> list[int]:
    """The same layouts for every column and policy, so rows are comparable."""
    start, _ = seed_range(config.split)
    return [start + config.seed + i for i in range(config.episodes)]


def recorded_seeds(dataset: Path, task: Task, columns: tuple[Column, ...], episodes: int) -> dict[Column, list[SeedPair]]:
    """(layout, episode) seeds of the first `episodes` recorded episodes of each column, in dataset
    order; a column the dataset does not hold is an error naming the columns it does hold."""
    from hab_aux.store import open_dataset

    meta = open_dataset(dataset).meta
    held: dict[Column, list[SeedPair]] = {}
    for column in task.columns:
        held[column] = [(m["layout_seed"], m["episode_seed"]) for m in meta
                        if m["task"] == task.name and m["subtask"] == column.subtask
                        and column.articulation in (None, m["target_category"])][:episodes]  # fmt: skip
    holds = [c.key for c, pairs in held.items() if pairs]
    for column in columns:
        if not held[column]:
            raise UserError(f"--episodes-from {dataset} holds no {task.name} {column.key} episodes; "
                            f"it holds: {', '.join(holds) or 'none of ' + task.name}")  # fmt: skip
    return {column: held[column] for column in columns}


def _chunks(pairs: list[SeedPair], n: int) -> list[list[SeedPair]]:
    size = -(-len(pairs) // n)
    return [pairs[i : i + size] for i in range(0, len(pairs), size)]


def _run_episodes(task: Task, column: Column, make_policy: PolicyFactory, config: EvalConfig,
                  pairs: list[SeedPair], make_env: Callable | None, on_batch: Callable[[int], None] | None = None
                  ) -> list[EpisodeResult]:  # fmt: skip
    """Run `pairs` in one env of this process (`make_env` defaults to the simulator's env factory of
    `config.world`; tests pass a fake); write videos when asked."""
    if make_env is None:
        from hab_aux.generate.envs import MAKE_ENV  # the simulator, only when evaluating

        make_env = MAKE_ENV[config.world]
    video = config.video_dir is not None
    env = make_env(task.name, column.subtask, column.articulation, sim_backend=config.sim_backend,
                   num_envs=config.num_envs, third_person=video)  # fmt: skip
    frame_fn = (lambda obs: side_by_side(obs, env.render_third_person())) if video else None
    results: list[EpisodeResult] = []
    try:
        policies = [make_policy(env, k, column) for k in range(env.num_envs)]
        for i in range(0, len(pairs), env.num_envs):
            batch = pairs[i : i + env.num_envs]
            results.extend(run_batch(env, policies, [p[0] for p in batch], [p[1] for p in batch],
                                     max_steps=config.max_steps, action_noise=config.action_noise,
                                     frame_fn=frame_fn))  # fmt: skip
            if on_batch:
                on_batch(len(batch))
    finally:
        env.close()
    if video:
        for r in results:
            name = f"{task.name}_{column.name.replace(' ', '_')}_{r.info.layout_seed}_{'ok' if r.success else 'fail'}.mp4"
            write_video(config.video_dir / name, r.frames)
            write_strip((config.video_dir / name).with_suffix(".png"), r.frames)
            r.frames.clear()
    return results


def _one_thread_each(threads: int) -> None:
    """A worker process renders and infers with its share of the cores (lavapipe reads
    LP_NUM_THREADS when the render device is created, so before the simulator starts)."""
    os.environ["LP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(1)


def evaluate_task(task: Task, policies: dict[str, PolicyFactory], config: EvalConfig,
                  progress: Progress | None = None, make_env: Callable | None = None,
                  subtasks: tuple[str, ...] | None = None) -> dict[str, list[ColumnResult]]:  # fmt: skip
    """Success per column (of `subtasks`: subtasks or column keys, default all) for each named policy:
    {policy: [ColumnResult per column]}. With `config.workers > 1` the factories and `make_env`
    must pickle (those of `hab_aux.generate.policies` and `hab_aux.eval.policies` do)."""
    columns = select_columns(task, subtasks)
    if config.episodes_from is not None:
        seeds = recorded_seeds(config.episodes_from, task, columns, config.episodes)
    else:
        seeds = {column: [(s, s) for s in layout_seeds(config)] for column in columns}
    bars = {(name, c): progress.add_task(f"{name} {c.name}", total=len(seeds[c])) if progress else None
            for name in policies for c in columns}  # fmt: skip

    def advance(name: str, column: Column, n: int) -> None:
        if progress:
            progress.advance(bars[name, column], n)

    if config.workers == 1:
        return {name: [ColumnResult(c.name, _run_episodes(task, c, factory, config, seeds[c], make_env,
                                                          partial(advance, name, c))) for c in columns]
                for name, factory in policies.items()}  # fmt: skip
    threads = max(1, (os.cpu_count() or 1) // config.workers)
    context = mp.get_context("spawn")  # SAPIEN does not survive fork
    with ProcessPoolExecutor(config.workers, mp_context=context, initializer=_one_thread_each, initargs=(threads,)) as pool:
        futures = {(name, c): [(pool.submit(_run_episodes, task, c, factory, config, chunk, make_env), len(chunk))
                               for chunk in _chunks(seeds[c], config.workers)]
                   for name, factory in policies.items() for c in columns}  # fmt: skip
        rows = {name: [] for name in policies}
        for (name, c), parts in futures.items():
            results = []
            for future, n in parts:
                results.extend(future.result())
                advance(name, c, n)
            rows[name].append(ColumnResult(c.name, results))
    return rows
