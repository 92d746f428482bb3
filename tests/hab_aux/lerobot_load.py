"""Run with the LeRobot environment's Python (scripts/lerobot_env.sh), not with hab-aux's:

    .venv-lerobot/bin/python tests/hab_aux/lerobot_load.py EXPORT_DIR OUT.npz

Loads EXPORT_DIR with lerobot's LeRobotDataset and saves every frame it returns (images as LeRobot
decodes them: float CHW in [0, 1]), the task strings, the episode table, and an action chunk of 4
per frame with its padding mask (how ACT and Diffusion Policy read across episode boundaries).
"""

import json
import sys

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset

root, out = sys.argv[1], sys.argv[2]
dataset = LeRobotDataset("hab-aux/export", root=root)
items = [dataset[i] for i in range(len(dataset))]
arrays = {f"frame/{k}": np.stack([item[k].numpy() for item in items]) for k in items[0] if k != "task"}
arrays["frame/task"] = np.array([item["task"] for item in items])
chunked = LeRobotDataset("hab-aux/export", root=root, delta_timestamps={"action": [i / dataset.fps for i in range(4)]})
arrays["chunk/action"] = np.stack([chunked[i]["action"].numpy() for i in range(len(chunked))])
arrays["chunk/action_is_pad"] = np.stack([chunked[i]["action_is_pad"].numpy() for i in range(len(chunked))])
episodes = [dataset.meta.episodes[i] for i in range(dataset.meta.total_episodes)]
meta = {
    "fps": dataset.fps,
    "num_episodes": dataset.num_episodes,
    "num_frames": dataset.num_frames,
    "features": {k: v["shape"] for k, v in dataset.features.items()},
    "camera_keys": dataset.meta.camera_keys,
    "episodes": [(e["dataset_from_index"], e["dataset_to_index"]) for e in episodes],
    "stats_keys": sorted(dataset.meta.stats),
}
np.savez(out, meta=json.dumps(meta), **arrays)
