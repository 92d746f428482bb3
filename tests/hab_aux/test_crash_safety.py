"""SIGKILL a writer at random moments: only complete episodes are visible, and it resumes."""

import pickle
import random
import signal
import subprocess
import sys
import time

import numpy as np

from hab_aux import schema
from hab_aux.inspect.verify import verify_dataset
from hab_aux.store import ShardWriter, open_dataset
from hab_aux.store.synthetic import synthetic_episode

CHILD = """
import pickle, sys
from hab_aux.store import ShardWriter
base = pickle.load(open(sys.argv[2], "rb"))
w = ShardWriter(sys.argv[1], 0, task="SetTable")
print("ready", w.num_episodes, flush=True)
while True:
    n = w.num_episodes
    steps, meta = base[n % len(base)]
    w.add_episode(steps, {**meta, "episode_seed": n})
"""


def _check_complete(root, base) -> int:
    ds = open_dataset(root)
    for i in range(ds.num_episodes):
        steps, meta = base[i % len(base)]
        got = ds.episode(i)
        assert all(np.array_equal(got[k], steps[k]) for k in schema.STEP_KEYS), f"episode {i} differs"
        assert ds.episode_meta(i) == {**meta, "episode_seed": i}
    return ds.num_episodes


def test_sigkill_loses_at_most_the_episode_in_flight(tmp_path):
    base = [synthetic_episode(s, n) for s, n in enumerate((37, 150, 90, 64))]  # crosses shard files often
    (tmp_path / "base.pkl").write_bytes(pickle.dumps(base))
    root = tmp_path / "ds"
    seed = time.time_ns()
    rng, committed = random.Random(seed), 0
    for _ in range(4):
        args = [sys.executable, "-c", CHILD, str(root), str(tmp_path / "base.pkl")]
        child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().split() == ["ready", str(committed)], f"seed {seed}"
        time.sleep(rng.uniform(0.2, 1.5))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        now = _check_complete(root, base)
        assert now >= committed, f"seed {seed}: committed episodes were lost"
        committed = now
    assert committed > 0, f"seed {seed}: no episode was ever committed"
    steps, meta = base[committed % len(base)]
    with ShardWriter(root, 0, task="SetTable") as w:  # resumes: drops the torn tail, appends after it
        w.add_episode(steps, {**meta, "episode_seed": committed})
    assert _check_complete(root, base) == committed + 1
    assert not list(root.rglob("*.partial"))
    assert verify_dataset(root) == []
