"""LeRobot itself loads our export: frames, actions, labels, tasks and episode boundaries as ours.

Needs the isolated LeRobot environment (`bash scripts/lerobot_env.sh`, or LEROBOT_VENV=path); where
it is absent (CI's fresh clone) the test is skipped and says so. lerobot_load.py runs in that
environment and saves what LeRobotDataset returns; this side compares it with the dataset.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hab_aux import schema
from hab_aux.export.features import depth_to_video
from hab_aux.store import open_dataset
from tests.hab_aux.conftest import write_dataset
from tests.hab_aux.test_export_lerobot import DEPTH_TOLERANCE, LABELS, RGB_TOLERANCE

ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path(os.environ.get("LEROBOT_VENV", ROOT / ".venv-lerobot")) / "bin" / "python"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not PYTHON.exists(), reason=f"no LeRobot environment at {PYTHON.parent.parent}: bash scripts/lerobot_env.sh"),
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, episodes):
    """(dataset, meta, arrays): a 2-episode dataset, and its export as LeRobotDataset returns it."""
    from hab_aux.export.lerobot import export_lerobot

    root = tmp_path_factory.mktemp("interop")
    dataset = write_dataset(root / "ds", episodes[:2])
    (root / "lerobot").mkdir()
    export_lerobot(open_dataset(dataset), root / "lerobot")
    env = os.environ | {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "HF_HOME": str(root / "hf")}
    script = Path(__file__).with_name("lerobot_load.py")
    done = subprocess.run([PYTHON, script, root / "lerobot", root / "loaded.npz"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(root / "loaded.npz") as f:
        arrays = {k: f[k] for k in f.files}
    return dataset, json.loads(str(arrays.pop("meta"))), arrays


def _source(dataset: Path, key: str) -> np.ndarray:
    ds = open_dataset(dataset)
    return np.concatenate([ds.episode(i, (key,))[key] for i in range(ds.num_episodes)])


def test_lerobot_sees_the_episodes_features_and_tasks(loaded):
    dataset, meta, frames = loaded
    assert (meta["fps"], meta["num_episodes"], meta["num_frames"]) == (20, 2, 203)
    assert meta["episodes"] == [[0, 73], [73, 203]]
    assert meta["features"]["observation.state"] == [15] and meta["features"]["action"] == [13]
    assert sorted(meta["camera_keys"]) == sorted(f"observation.images.{c}{d}" for c in schema.CAMERAS for d in ("", "_depth"))
    assert {"action", "observation.state", "observation.images.head"} <= set(meta["stats_keys"])
    assert frames["frame/episode_index"].tolist() == [0] * 73 + [1] * 130
    assert frames["frame/frame_index"].tolist() == list(range(73)) + list(range(130))
    instructions = [m["instruction"] for m in open_dataset(dataset).meta]
    assert frames["frame/task"].tolist() == [instructions[0]] * 73 + [instructions[1]] * 130


def test_lerobot_returns_our_actions_state_and_labels_exactly(loaded):
    dataset, _, frames = loaded
    for name, key in LABELS.items():
        ours = _source(dataset, key)
        assert np.array_equal(frames[f"frame/{name}"].astype(ours.dtype).reshape(ours.shape), ours), name


def test_lerobot_decodes_our_frames_within_tolerance(loaded):
    dataset, _, frames = loaded
    for cam in schema.CAMERAS:
        for name, ours, tolerance in (
            (f"observation.images.{cam}", _source(dataset, f"{cam}_rgb"), RGB_TOLERANCE),
            (f"observation.images.{cam}_depth", depth_to_video(_source(dataset, f"{cam}_depth")), DEPTH_TOLERANCE),
        ):
            theirs = frames[f"frame/{name}"].transpose(0, 2, 3, 1) * 255.0  # LeRobot: float CHW in [0, 1]
            error = np.abs(theirs - ours).mean(axis=(1, 2, 3))
            assert error.max() < tolerance, (name, error.max())


def test_action_chunks_stop_at_episode_ends(loaded):
    dataset, _, frames = loaded
    actions, pad = frames["chunk/action"], frames["chunk/action_is_pad"]
    ours = _source(dataset, "action")
    for i, (start, end) in enumerate([(0, 73), (73, 203)]):
        for t in (start, end - 3, end - 1):
            valid = np.arange(t, t + 4) < end
            assert pad[t].tolist() == (~valid).tolist(), (i, t)
            np.testing.assert_array_equal(actions[t][valid], ours[t : t + valid.sum()])
