"""The same episodes written as MS-HAB writes its datasets: one h5 file, a group per trajectory,
RGB + depth per camera and the actions, gzip level 5 (the comparison anchor of the storage and
loading benchmarks), and a reader that samples random steps from it."""

from pathlib import Path

import h5py
import numpy as np

from hab_aux import schema

CAMERA_NAMES = {"head": "fetch_head", "hand": "fetch_hand"}


def write_mshab_h5(dataset, path: Path, episodes: int | None = None) -> Path:
    n = dataset.num_episodes if episodes is None else min(episodes, dataset.num_episodes)
    with h5py.File(path, "w") as f:
        for i in range(n):
            keys = [f"{c}_{m}" for c in schema.CAMERAS for m in ("rgb", "depth")] + ["action"]
            ep = dataset.episode(i, tuple(keys))
            group = f.create_group(f"traj_{i}")
            for cam, name in CAMERA_NAMES.items():
                sensor = group.create_group(f"obs/sensor_data/{name}")
                sensor.create_dataset("rgb", data=ep[f"{cam}_rgb"], compression="gzip", compression_opts=5)
                depth = ep[f"{cam}_depth"].astype(np.int16)  # MS-HAB stores ManiSkill's int16 millimetres
                sensor.create_dataset("depth", data=depth, compression="gzip", compression_opts=5)
            group.create_dataset("actions", data=ep["action"], compression="gzip", compression_opts=5)
    return path


def key_bytes(path: Path) -> dict[str, int]:
    """Stored (compressed) bytes of each of our keys that the h5 holds, summed over its trajectories."""
    out = {f"{cam}_{m}": 0 for cam in CAMERA_NAMES for m in ("rgb", "depth")} | {"action": 0}
    with h5py.File(path, "r") as f:
        for group in f.values():
            for cam, name in CAMERA_NAMES.items():
                for m in ("rgb", "depth"):
                    out[f"{cam}_{m}"] += group[f"obs/sensor_data/{name}/{m}"].id.get_storage_size()
            out["action"] += group["actions"].id.get_storage_size()
    return out


class MSHABReader:
    """Random steps from an MS-HAB-style h5: what a training loader over those files does."""

    def __init__(self, path: Path):
        self.file = h5py.File(path, "r")
        self.groups = [self.file[k] for k in sorted(self.file, key=lambda k: int(k.split("_")[1]))]
        lengths = np.array([len(g["actions"]) for g in self.groups])
        self.ends = np.cumsum(lengths)

    def step(self, i: int) -> dict[str, np.ndarray]:
        e = int(np.searchsorted(self.ends, i, side="right"))
        t = i - (self.ends[e - 1] if e else 0)
        g = self.groups[e]
        out = {"action": g["actions"][t]}
        for cam, name in CAMERA_NAMES.items():
            out[f"{cam}_rgb"] = g[f"obs/sensor_data/{name}/rgb"][t]
            out[f"{cam}_depth"] = g[f"obs/sensor_data/{name}/depth"][t]
        return out
