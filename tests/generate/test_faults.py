"""Faults a long generation run meets: a full disk and a killed worker (generate/local_workers.py)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hab_aux.store import open_dataset

pytestmark = pytest.mark.sim
FAST = ["--policy", "random", "--keep-failures", "--max-steps", "6", "--task", "SetTable", "--subtasks", "pick"]

# Loaded by every process of the run (the launcher and its spawned workers) through PYTHONPATH: the
# store's episode commit raises ENOSPC once the dataset holds 2 episodes, as a full disk would.
FULL_DISK = """
import errno
from hab_aux.store import writer

_add = writer.ShardWriter.add_episode

def add_episode(self, steps, meta):
    if self.num_episodes >= 2:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
    return _add(self, steps, meta)

writer.ShardWriter.add_episode = add_episode
"""


def habaux(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "hab_aux", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip


def test_a_full_disk_stops_with_one_line_and_keeps_what_was_committed(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FULL_DISK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "ds"
    proc = habaux("generate", "--episodes", "5", "--out", str(out), *FAST, env=env)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "no space left on device" in lines[0] and "2 episodes are safely kept" in lines[0]
    assert "rerun the same command to resume" in lines[0]
    verify = subprocess.run([sys.executable, "-m", "hab_aux", "inspect", str(out), "--rebuild-manifest", "--verify"],
                            capture_output=True, text=True)  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert open_dataset(out).num_episodes == 2


def _workers(launcher: int) -> list[int]:
    """Spawned worker processes of the launcher (not its resource tracker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == launcher and "spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_a_killed_worker_is_replaced_and_the_run_ends_with_the_exact_count(tmp_path):
    out = tmp_path / "ds"
    proc = habaux("generate", "--episodes", "10", "--workers", "2", "--out", str(out), *FAST)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("shards/*/commit.json")):
        time.sleep(0.2)  # both workers started and one has committed
    workers = _workers(proc.pid)
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    assert open_dataset(out).num_episodes == 10
    seeds = open_dataset(out).meta_column("episode_seed").tolist()
    assert len({s // 64 for s in seeds}) == 10  # every slot once, no duplicates
