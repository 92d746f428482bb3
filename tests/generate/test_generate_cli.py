"""`habaux generate` end to end in the simulator: exact counts, resume after SIGKILL, refusals.

Episodes are short (random policy, --keep-failures, a few steps) so the tests stay quick; the
guarantees do not depend on the policy.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hab_aux.generate.plan import slot_of
from hab_aux.store import open_dataset
from hab_aux.tasks import SPLIT_SEED_RANGES

pytestmark = pytest.mark.sim
FAST = ["--policy", "random", "--keep-failures", "--max-steps", "6"]


def habaux(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "hab_aux", *args], capture_output=True, text=True, **kwargs)


def committed(out) -> int:
    return sum(json.loads(p.read_text())["num_episodes"] for p in out.glob("shards/*/commit.json"))


def test_generate_writes_exactly_the_requested_episodes_with_their_meta(tmp_path):
    out = tmp_path / "ds"
    done = habaux("generate", "--task", "SetTable", "--subtasks", "pick,open", "--episodes", "3", "--out", str(out), *FAST)
    assert done.returncode == 0, done.stderr
    data = open_dataset(out)
    assert data.num_episodes == 3 and data.num_steps == 18
    meta = data.meta
    # slots cycle through the columns Pick, Open F, Open D
    assert [(m["subtask"], m["target_category"]) for m in meta] == [("pick", meta[0]["target_category"]),
                                                                    ("open", "fridge"), ("open", "drawer")]  # fmt: skip
    lo, hi = SPLIT_SEED_RANGES["train"]
    assert all(lo <= m["layout_seed"] < hi and m["split"] == "train" and m["expert"] == "random" for m in meta)
    assert all(not m["success"] and m["failure_reason"] for m in meta)
    assert json.loads((out / "manifest.json").read_text())["shards"][0]["generation"]["config"]["policy"] == "random"
    verify = habaux("inspect", str(out), "--verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # the same command again owes nothing; a larger count extends the dataset
    assert "nothing to do" in habaux("generate", "--task", "SetTable", "--subtasks", "pick,open", "--episodes", "3",
                                     "--out", str(out), *FAST).stdout  # fmt: skip
    more = habaux("generate", "--task", "SetTable", "--subtasks", "pick,open", "--episodes", "4", "--out", str(out), *FAST)
    assert more.returncode == 0 and open_dataset(out).num_episodes == 4


def test_sigkill_then_rerun_gives_the_exact_count_without_duplicates(tmp_path):
    out = tmp_path / "ds"
    args = ["generate", "--task", "TidyHouse", "--episodes", "5", "--workers", "2", "--out", str(out), *FAST]
    proc = subprocess.Popen([sys.executable, "-m", "hab_aux", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.time() + 240
    while committed(out) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the launcher and its workers, as a preempted SLURM job
    proc.wait()
    before = committed(out)
    assert 2 <= before < 5
    done = habaux(*args)
    assert done.returncode == 0, done.stderr
    data = open_dataset(out)
    assert data.num_episodes == 5
    seeds = data.meta_column("episode_seed")
    assert len(set(seeds.tolist())) == 5
    for i in range(5):  # every episode readable, consistent with its meta
        episode = data.episode(i, ("action", "head_rgb"))
        assert len(episode["action"]) == data.meta[i]["length"] == 6
        assert np.abs(episode["action"]).max() <= 1
    assert habaux("inspect", str(out), "--verify").returncode == 0


def test_an_output_folder_of_another_task_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "ds"
    assert habaux("generate", "--task", "TidyHouse", "--episodes", "1", "--out", str(out), *FAST).returncode == 0
    refused = habaux("generate", "--task", "SetTable", "--episodes", "1", "--out", str(out), *FAST)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"--out {out} holds a dataset made with other options" in refused.stderr and "'task': 'TidyHouse'" in refused.stderr
    assert open_dataset(out).meta[0]["task"] == "TidyHouse"  # nothing was touched
    replaced = habaux("generate", "--task", "SetTable", "--episodes", "1", "--out", str(out), "--overwrite", *FAST)
    assert replaced.returncode == 0 and open_dataset(out).meta[0]["task"] == "SetTable"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--episodes", "0"], "--episodes must be at least 1, got 0"),
        (["--task", "Garage"], "unknown task 'Garage'; valid: SetTable, TidyHouse, PrepareGroceries"),
        (["--subtasks", "pick,juggle"], "unknown subtask for SetTable 'juggle'; valid: pick, place, open, close"),
        (["--policy", "oracle"], "unknown policy 'oracle'; valid: random, zero, release, expert"),
        (["--workers", "0"], "--workers must be in 1..100, got 0"),
        (["--shard-index", "2", "--num-shards", "2"], "--shard-index 2 must be in 0..1"),
        (["--depth-codec", "png"], "unknown depth codec 'png'; valid: delta-zstd, jpegxl"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(tmp_path, args, message):
    out = tmp_path / "ds"
    done = habaux("generate", "--out", str(out), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_a_folder_that_is_not_a_dataset_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = habaux("generate", "--episodes", "1", "--out", str(tmp_path), *FAST)
    assert done.returncode == 2 and "holds no hab-aux dataset" in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_slurm_array_slices_merge_into_one_dataset(tmp_path):
    out = tmp_path / "ds"
    for index in (1, 0):  # array tasks finish in any order
        done = habaux("generate", "--task", "TidyHouse", "--episodes", "3", "--shard-index", str(index),
                      "--num-shards", "2", "--out", str(out), *FAST)  # fmt: skip
        assert done.returncode == 0, done.stderr
    data = open_dataset(out)
    assert data.num_episodes == 3 and len(json.loads((out / "manifest.json").read_text())["shards"]) == 2
    assert sorted(slot_of(s)[0] for s in data.meta_column("episode_seed")) == [0, 1, 2]  # every slot once


def test_ray_workers_write_one_dataset(tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "ds"
    done = habaux("generate", "--task", "TidyHouse", "--episodes", "2", "--workers", "2", "--ray", "local",
                  "--out", str(out), *FAST, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert open_dataset(out).num_episodes == 2
    assert len(json.loads((out / "manifest.json").read_text())["shards"]) == 2


def test_a_column_the_policy_never_solves_stops_with_one_line(tmp_path):
    out = tmp_path / "ds"
    done = habaux("generate", "--task", "TidyHouse", "--subtasks", "pick", "--episodes", "1", "--policy", "zero",
                  "--max-steps", "2", "--out", str(out))  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "the zero policy failed all 10 attempts of column Pick" in done.stderr
