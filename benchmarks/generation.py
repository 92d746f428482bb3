"""Generation speed: `habaux generate` against bare env stepping with the same sensors, same run.

Run: .venv/bin/python benchmarks/generation.py [--task SetTable --subtask pick --episodes 6 --steps 60 --policy random]
  1. one worker in this process, one render thread: episodes recorded to a store (policy,
     observations to numpy, labels, compression, fsync'd commits on the writer thread);
  2. bare: the same subtask env (head + hand RGB-D + segmentation, 128x128), one render thread,
     replaying those episodes' layouts and lengths with zero actions, nothing recorded (both
     rates include building the env, as a worker does once per column);
  3. the launcher on 4x the episodes (process start and env build included): one worker rendering on every
     core (lavapipe's own default), one worker with one render thread, and one worker per core
     with one render thread each (`habaux generate`'s default for --workers N).
Lavapipe renders on every core unless LP_NUM_THREADS says otherwise, so "2 workers vs 1" would
compare a multithreaded renderer with itself; the per-core rows say what a core buys.
Ratios are computed inside the run (these machines are noisy). With `--policy expert` the
expert's own compute is included; with `random` (and --keep-failures) every episode has the same
length, so the figure isolates the recorder's overhead.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.generate.envs import make_subtask_env  # noqa: E402
from hab_aux.generate.plan import GenerateConfig  # noqa: E402
from hab_aux.generate.policies import EXPERT_POLICIES  # noqa: E402
from hab_aux.generate.run import Launch, generate  # noqa: E402
from hab_aux.generate.worker import WorkerJob, run_worker  # noqa: E402


def bare_rate(config: GenerateConfig, recorded: Path) -> float:
    """Replay the recorded episodes' layouts and lengths with zero actions, recording nothing. The
    env is built inside the timing, as the worker builds its own (about 7 s: at a few episodes, a
    large share of either rate)."""
    from hab_aux.store import open_dataset

    meta = open_dataset(recorded).meta
    column = config.columns[0]
    started = time.perf_counter()
    env = make_subtask_env(config.task, column.subtask, column.articulation)
    try:
        steps = 0
        for m in meta:
            env.reset([m["layout_seed"]], [m["episode_seed"]])
            for _ in range(m["length"]):
                env.step(np.zeros((1, 13), np.float32))
                steps += 1
        return steps / (time.perf_counter() - started)
    finally:
        env.close()


def worker_rate(config: GenerateConfig, episodes: int, root: Path) -> tuple[float, float, dict]:
    """(simulated steps/s including failed attempts, kept steps/s, progress)."""
    slots = {j * len(config.columns): 0 for j in range(episodes)}  # slots of the first column only
    started = time.perf_counter()
    progress = run_worker(WorkerJob(str(root), 0, config.to_json(), slots))
    wall = time.perf_counter() - started
    return progress["simulated"] / wall, progress["steps"] / wall, progress


def launcher_rate(config: GenerateConfig, episodes: int, workers: int, root: Path, render_threads: int | None) -> float:
    """Steps/s of `habaux generate --workers N`; `render_threads` None: lavapipe's default (every core)
    for one worker (a worker of several always gets cores // N)."""
    saved = os.environ.pop("LP_NUM_THREADS", None)
    if render_threads is not None:
        os.environ["LP_NUM_THREADS"] = str(render_threads)  # the spawned worker inherits it
    try:
        started = time.perf_counter()
        manifest = generate(config, Launch(episodes=episodes, out=root, workers=workers), Console(quiet=True))
        return manifest["num_steps"] / (time.perf_counter() - started)
    finally:
        os.environ.pop("LP_NUM_THREADS", None)
        if saved is not None:
            os.environ["LP_NUM_THREADS"] = saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="SetTable")
    parser.add_argument("--subtask", default="pick")
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--policy", default="random")
    parser.add_argument("--launcher-episodes", type=int,
                        help="episodes of the launcher rows (default 4x --episodes: each worker's process start and env "
                             "build, ~10 s, are paid once per run, so short runs understate what more workers give)")
    args = parser.parse_args()
    os.environ["LP_NUM_THREADS"] = "1"  # this process's render device: one thread (read when it is created)
    torch.set_num_threads(1)
    cores = len(os.sched_getaffinity(0))
    config = GenerateConfig.parse(args.task, args.subtask, policy=args.policy, keep_failures=args.policy not in EXPERT_POLICIES,
                                  max_steps=args.steps)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="habaux-gen-bench-"))
    try:
        make_subtask_env(config.task, config.columns[0].subtask, config.columns[0].articulation).close()  # first-in-process costs
        recorded, kept, progress = worker_rate(config, args.episodes, tmp / "worker")
        bare = bare_rate(config, tmp / "worker")
        launched = args.launcher_episodes or 4 * args.episodes
        every_core = launcher_rate(config, launched, 1, tmp / "every-core", None)
        one = launcher_rate(config, launched, 1, tmp / "one", 1)
        per_core = launcher_rate(config, launched, cores, tmp / "per-core", None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    body = f"""{args.task} {args.subtask}, policy {args.policy}, {args.episodes} episodes of {args.steps} steps (launcher rows: {launched}), CPU sim + render.

| figure | steps/s | ratio | goal |
|---|---|---|---|
| bare env stepping, one render thread: the same layouts and episode lengths, same sensors, zero actions | {bare:.1f} | 1.00 | |
| one worker recording (policy + labels + store on a writer thread), one render thread, every simulated step | {recorded:.1f} | {recorded / bare:.2f}x of bare | >= 0.9x |
| the same, kept transitions only ({progress["kept"]} of {progress["attempted"]} attempts kept) | {kept:.1f} | {kept / bare:.2f}x of bare | |
| launcher, --workers 1, rendering on all {cores} cores (process start included) | {every_core:.1f} | | |
| launcher, --workers 1, one render thread | {one:.1f} | 1.00 | |
| launcher, --workers {cores}, one render thread each (the default) | {per_core:.1f} | {per_core / one:.2f}x of one single-threaded worker, {per_core / every_core:.2f}x of one worker on all cores | >= 1.8x |

GPU `--sim-backend gpu --num-envs K` rate: not yet measured (no GPU was lent to this task).
"""
    record(f"Generation ({args.policy} policy)", "python benchmarks/generation.py " + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
