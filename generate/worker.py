"""One generation worker: owns one shard store, fills the slots it is given, reports progress.

It runs as a local process, a SLURM array task or a Ray task alike: everything it needs is in a
picklable `WorkerJob`, and it reports progress through a small JSON file that the launcher polls.
"""

import contextlib
import fcntl
import os
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from hab_aux.errors import UserError
from hab_aux.generate.background_writer import BackgroundWriter
from hab_aux.generate.plan import HOPELESS_AFTER, GenerateConfig, attempt, slot_of
from hab_aux.store.layout import SHARDS_DIR, shard_name, write_json_atomic

PROGRESS_DIR = ".progress"


@dataclass(frozen=True)
class WorkerJob:
    root: str
    shard_id: int
    config: dict  # GenerateConfig.to_json()
    next_attempt: dict[int, int]  # owed slot -> first attempt number to try
    sim_backend: str = "cpu"
    num_envs: int = 1
    command: str = ""
    cpu_threads: int | None = None  # cap on render/torch threads when several workers share a machine
    run_id: str = "run"  # one launch: its workers' progress files sit together, apart from earlier runs'


@dataclass
class Progress:
    attempted: int = 0
    succeeded: int = 0
    kept: int = 0
    steps: int = 0  # recorded steps of kept episodes
    simulated: int = 0  # every step taken, failed attempts included
    started: float = field(default_factory=time.time)
    failures: Counter = field(default_factory=Counter)
    command: str = ""

    def to_json(self) -> dict:
        counts = {k: getattr(self, k) for k in ("attempted", "succeeded", "kept", "steps", "simulated", "started")}
        return {**counts, "failures": dict(self.failures), "command": self.command}


def progress_path(root: Path, run_id: str, shard_id: int) -> Path:
    """Kept after the run: the data card sums every run's attempts (a resumed dataset has several)."""
    return root / PROGRESS_DIR / run_id / f"shard-{shard_id:05d}.json"


@contextlib.contextmanager
def _exclusive(shard: Path):
    """One writer per shard: a rerun waits here until an orphaned worker of a killed run has exited."""
    shard.parent.mkdir(parents=True, exist_ok=True)
    with open(shard.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _exit_if_orphaned(parent: int) -> None:
    """A launcher killed with SIGKILL cannot stop its workers: they stop themselves between episodes."""
    if os.getppid() != parent:
        os._exit(1)


def run_worker(job: WorkerJob) -> dict:
    """Fill every owed slot of this job; return the final progress."""
    if job.cpu_threads is not None:
        # lavapipe renders on every core by default: with one worker per core they would contend.
        # Read when the render device is created, so set before the simulator starts in this process.
        os.environ["LP_NUM_THREADS"] = str(job.cpu_threads)
        import torch

        torch.set_num_threads(job.cpu_threads)
    with _exclusive(Path(job.root) / SHARDS_DIR / shard_name(job.shard_id)):
        return _fill(job, os.getppid())


def _fill(job: WorkerJob, parent: int) -> dict:
    from hab_aux.store import ShardWriter

    root = Path(job.root)
    config = GenerateConfig.from_json(job.config)
    writer = ShardWriter(root, job.shard_id, task=config.task, depth_codec=config.depth_codec,
                         generation={"config": config.to_json(), "command": job.command})  # fmt: skip
    progress, report = Progress(command=job.command), progress_path(root, job.run_id, job.shard_id)
    report.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(report, progress.to_json())
    first_attempts = [attempt(config, slot, r) for slot, r in sorted(job.next_attempt.items())]
    with BackgroundWriter(writer) as sink:  # commits overlap the next rollouts
        _fill_columns(job, parent, config, first_attempts, sink, progress, report)
    return progress.to_json()


def _fill_columns(job: WorkerJob, parent: int, config: GenerateConfig, first_attempts: list, sink: BackgroundWriter,
                  progress: Progress, report: Path) -> None:  # fmt: skip
    from hab_aux.generate.envs import MAKE_ENV
    from hab_aux.generate.policies import policy_factory
    from hab_aux.generate.recorder import record_batch

    make_policy = policy_factory(config.policy, config.mshab_checkpoints)
    make_env = MAKE_ENV[config.world]
    for column in config.columns:  # one env at a time: the worker's slots of this column
        pending = deque(a for a in first_attempts if a.column == column)
        if not pending:
            continue
        env = make_env(config.task, column.subtask, column.articulation, sim_backend=job.sim_backend, num_envs=job.num_envs)
        try:
            policies = [make_policy(env, k, column) for k in range(env.num_envs)]
            tried = succeeded = 0
            while pending:
                _exit_if_orphaned(parent)
                batch = [pending.popleft() for _ in range(min(env.num_envs, len(pending)))]
                for done, episode in zip(batch, record_batch(env, policies, batch, config)):
                    tried, succeeded = tried + 1, succeeded + episode.result.success
                    progress.attempted += 1
                    progress.simulated += episode.result.length
                    progress.succeeded += episode.result.success
                    if episode.result.success or config.keep_failures:
                        sink.submit(episode.steps, episode.meta)
                        progress.kept += 1
                        progress.steps += episode.meta["length"]
                    if not episode.result.success:
                        progress.failures[episode.result.failure_reason] += 1
                        if not config.keep_failures:
                            pending.append(attempt(config, done.slot, slot_of(done.episode_seed)[1] + 1))
                write_json_atomic(report, progress.to_json())
                if not config.keep_failures and tried >= HOPELESS_AFTER and not succeeded:
                    raise UserError(f"the {config.policy} policy failed all {tried} attempts of column {column.name} "
                                    f"({dict(progress.failures)}); leave {column.subtask} out (--subtasks) or add --keep-failures")  # fmt: skip
        finally:
            env.close()
