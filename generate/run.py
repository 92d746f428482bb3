"""Launch a generation run: check the output folder, work out what is owed, fan out workers, show progress.

Workers are local processes (`--workers N`, spawned: SAPIEN does not survive fork; a worker that
dies is replaced on its shard, `local_workers.py`), a slice of
a SLURM array (`--shard-index i --num-shards n`: each array task runs this same launcher on its
slice), or Ray tasks (`--ray ADDRESS`). They all write shard stores under one dataset folder,
which the manifest then lists as one dataset.
"""

import json
import os
import shlex
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hab_aux import schema
from hab_aux.errors import Fault, UserError, environmental_faults
from hab_aux.generate.local_workers import MAX_RESTARTS, LocalWorkers
from hab_aux.generate.plan import GenerateConfig, owed_slots
from hab_aux.generate.worker import WorkerJob, progress_path, run_worker
from hab_aux.store import build_manifest, open_dataset
from hab_aux.store.layout import SHARDS_DIR, find_shards
from hab_aux.tasks import check_num_envs

MAX_WORKERS_PER_SHARD = 100  # shard ids: shard_index * 100 + worker


@dataclass(frozen=True)
class Launch:
    episodes: int
    out: Path
    workers: int = 1
    shard_index: int = 0
    num_shards: int = 1
    sim_backend: str = "cpu"
    num_envs: int = 1
    overwrite: bool = False
    ray_address: str | None = None

    def __post_init__(self):
        if self.episodes < 1:
            raise UserError(f"--episodes must be at least 1, got {self.episodes}")
        if not 0 <= self.shard_index < self.num_shards:
            raise UserError(f"--shard-index {self.shard_index} must be in 0..{self.num_shards - 1} (--num-shards {self.num_shards})")
        if not 1 <= self.workers <= MAX_WORKERS_PER_SHARD:
            raise UserError(f"--workers must be in 1..{MAX_WORKERS_PER_SHARD}, got {self.workers}")
        check_num_envs(self.num_envs, self.sim_backend)


def check_output(out: Path, config: GenerateConfig, overwrite: bool) -> None:
    """Refuse a folder holding another dataset (task, schema or options) unless --overwrite."""
    if not out.exists() or not any(out.iterdir()):
        return
    shards = find_shards(out)
    if not shards and not (out / "manifest.json").exists():
        raise UserError(f"--out {out} is not empty and holds no hab-aux dataset; choose an empty or new folder")
    problem = None
    for entry in build_manifest(out)["shards"]:
        theirs = entry.get("generation", {}).get("config")
        if entry["schema_version"] != schema.SCHEMA_VERSION:
            problem = f"schema version {entry['schema_version']} (this is {schema.SCHEMA_VERSION})"
        elif theirs and GenerateConfig.from_json(theirs) != config:
            diff = {k: v for k, v in theirs.items() if config.to_json().get(k) != v}
            problem = f"a dataset made with other options {diff}"
        if problem:
            break
    if problem and not overwrite:
        raise UserError(f"--out {out} holds {problem}; use the same options to resume, another --out, or --overwrite")
    if problem:
        shutil.rmtree(out)


def _owed(config: GenerateConfig, launch: Launch) -> tuple[list[int], dict[int, int]]:
    """The slots this launch still owes and each one's next attempt, from the committed episodes."""
    recorded = []
    if find_shards(launch.out):
        dataset = open_dataset(launch.out)
        recorded = list(zip(dataset.meta_column("episode_seed").tolist(), dataset.meta_column("success").tolist()))
    return owed_slots(launch.episodes, launch.shard_index, launch.num_shards, recorded, config.keep_failures)


def _jobs(config: GenerateConfig, launch: Launch) -> list[WorkerJob]:
    owed, next_attempt = _owed(config, launch)
    command = shlex.join(["habaux", *sys.argv[1:]])
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    threads = max(1, (os.cpu_count() or 1) // launch.workers) if launch.workers > 1 and launch.ray_address is None else None
    jobs = []
    for w in range(launch.workers):
        mine = {slot: next_attempt[slot] for slot in owed[w :: launch.workers]}
        if mine:
            shard = launch.shard_index * MAX_WORKERS_PER_SHARD + w
            jobs.append(WorkerJob(str(launch.out), shard, config.to_json(), mine, launch.sim_backend, launch.num_envs,
                                  command, threads, run_id))  # fmt: skip
    return jobs


def _read_progress(out: Path, jobs: list[WorkerJob]) -> tuple[Counter, Counter]:
    """Summed counts (attempted, succeeded, kept, steps) and failure reasons of the workers so far."""
    totals: Counter = Counter()
    failures: Counter = Counter()
    for job in jobs:
        path = progress_path(out, job.run_id, job.shard_id)
        if path.exists():
            p = json.loads(path.read_text())
            totals.update({k: p[k] for k in ("attempted", "succeeded", "kept", "steps")})
            failures.update(p["failures"])
    return totals, failures


def _remaining(config: GenerateConfig, launch: Launch) -> Callable[[WorkerJob], WorkerJob | None]:
    """For a worker that died: its slots not yet committed, each from its next attempt."""

    def remaining(job: WorkerJob) -> WorkerJob | None:
        owed, next_attempt = _owed(config, launch)
        mine = {slot: next_attempt[slot] for slot in owed if slot in job.next_attempt}
        return replace(job, next_attempt=mine) if mine else None

    return remaining


def _submit(jobs: list[WorkerJob], launch: Launch, config: GenerateConfig):
    """Start the workers; return (all-done check, results getter)."""
    if launch.ray_address is not None:
        try:
            import ray
        except ImportError as err:
            raise UserError("--ray needs Ray: pip install 'hab-aux[ray]'") from err
        ray.init(address=launch.ray_address, ignore_reinit_error=True, log_to_driver=False)
        # Ray's own retries replace a task whose worker died; a resubmitted job resumes from the store.
        refs = [ray.remote(run_worker).options(num_cpus=1, max_retries=MAX_RESTARTS).remote(job) for job in jobs]
        return lambda: not ray.wait(refs, num_returns=len(refs), timeout=0)[1], lambda: ray.get(refs)
    workers = LocalWorkers(jobs, _remaining(config, launch))
    return workers.done, lambda: None


def _kept(out: Path) -> int:
    """Committed episodes, read from the shards' commit records alone (works on a full disk)."""
    return sum(json.loads(p.read_text())["num_episodes"] for p in out.glob(f"{SHARDS_DIR}/*/commit.json"))


def generate(config: GenerateConfig, launch: Launch, console: Console) -> dict:
    """Run (or resume) generation until this shard slice holds its exact count; return the manifest."""
    check_output(launch.out, config, launch.overwrite)
    launch.out.mkdir(parents=True, exist_ok=True)
    jobs = _jobs(config, launch)
    owed = sum(len(j.next_attempt) for j in jobs)
    if not owed:
        console.print(f"{launch.out} already holds the requested episodes; nothing to do")
        return build_manifest(launch.out)
    try:
        with environmental_faults(str):
            return _run(config, launch, jobs, owed, console)
    except Fault as err:
        raise Fault(f"generation into {launch.out} stopped: {err}; {_kept(launch.out)} episodes are safely kept; "
                    "rerun the same command to resume") from err


def _run(config: GenerateConfig, launch: Launch, jobs: list[WorkerJob], owed: int, console: Console) -> dict:
    done, results = _submit(jobs, launch, config)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(f"{config.task} episodes kept", total=owed, stats="")
        start = time.time()
        while True:
            finished = done()
            n, _ = _read_progress(launch.out, jobs)
            rate = n["succeeded"] / n["attempted"] if n["attempted"] else 0.0
            stats = f"attempted {n['attempted']}, success {rate:.0%}, {n['steps'] / max(time.time() - start, 1e-9):.1f} steps/s"
            bar.update(task, completed=n["kept"], stats=stats)
            if finished:
                break
            time.sleep(0.5)
    results()  # raises a worker's error, if any
    _, failures = _read_progress(launch.out, jobs)
    if failures:
        kept = "kept, labelled success=false" if config.keep_failures else "not kept"
        console.print(f"failed attempts ({kept}): {dict(failures)}")
    return build_manifest(launch.out)
