"""Local worker processes that outlive each other: a worker that dies (the OOM killer, a SIGKILL)
is replaced on the same shard, its committed episodes already safe, up to MAX_RESTARTS times.

One process per job rather than a process pool: a pool breaks as a whole when one of its
processes dies, and stops the healthy workers with it. Outcomes come back through a queue, not a
file, so that they still arrive when the disk is full.
"""

import multiprocessing as mp
import traceback
from collections import Counter
from collections.abc import Callable

from hab_aux.errors import Fault, UserError, describe, is_environmental
from hab_aux.generate.worker import WorkerJob, run_worker

MAX_RESTARTS = 3  # per worker


def _child(job: WorkerJob, outcomes) -> None:
    """Process target: run the worker and report how it ended."""
    try:
        run_worker(job)
        outcomes.put((job.shard_id, "ok", ""))
    except UserError as err:
        outcomes.put((job.shard_id, "user", str(err)))
    except OSError as err:
        outcomes.put((job.shard_id, "fault" if is_environmental(err) else "crash", describe(err)))
    except Exception:  # noqa: BLE001 - a bug: the parent reports it with its traceback
        outcomes.put((job.shard_id, "crash", traceback.format_exc()))


class LocalWorkers:
    """Runs `jobs`; `remaining(job)` gives a replacement job for the slots a dead worker still owes
    (None when it owes none)."""

    def __init__(self, jobs: list[WorkerJob], remaining: Callable[[WorkerJob], WorkerJob | None]):
        self.context = mp.get_context("spawn")  # SAPIEN does not survive fork
        self.outcomes = self.context.SimpleQueue()
        self.remaining = remaining
        self.restarts: Counter = Counter()
        self.running = {job.shard_id: self._start(job) for job in jobs}

    def _start(self, job: WorkerJob):
        process = self.context.Process(target=_child, args=(job, self.outcomes), daemon=False)
        process.start()
        return process, job

    def _drain(self) -> dict[int, tuple[str, str]]:
        reports = {}
        while not self.outcomes.empty():
            shard, status, message = self.outcomes.get()
            reports[shard] = (status, message)
        return reports

    def done(self) -> bool:
        """Check the workers once; restart the dead, raise for failures; True when all have finished."""
        reports = self._drain()
        for shard, (process, job) in list(self.running.items()):
            if process.is_alive() and shard not in reports:
                continue
            process.join()
            status, message = reports.get(shard, ("died", f"exit code {process.exitcode}"))
            if status == "ok":
                del self.running[shard]
            elif status == "user":
                self.stop()
                raise UserError(message)
            elif status == "fault":
                self.stop()
                raise Fault(message)
            elif status == "crash":
                self.stop()
                raise RuntimeError(f"generation worker for shard {shard} failed:\n{message}")
            elif self.restarts[shard] >= MAX_RESTARTS:
                self.stop()
                raise Fault(f"the worker of shard {shard} died {self.restarts[shard] + 1} times ({message}, last time)")
            else:
                self.restarts[shard] += 1
                replacement = self.remaining(job)
                if replacement is None:
                    del self.running[shard]
                else:
                    self.running[shard] = self._start(replacement)
        return not self.running

    def stop(self) -> None:
        for process, _ in self.running.values():
            if process.is_alive():
                process.terminate()
        for process, _ in self.running.values():
            process.join()
        self.running = {}
