"""Storage and loading against MS-HAB's format, measured side by side on the same episodes.

Run: .venv/bin/python benchmarks/storage_loading.py --dataset data/SetTable [--episodes 60]
  - bytes per transition: our store (every key: RGB-D, segmentation, masks, labels) vs the same
    episodes as MS-HAB writes them (h5, gzip-5, RGB + depth + actions only); goal <= 0.5x.
  - random-access training samples/s (head+hand RGB-D + action): our reader, one read per batch,
    vs an h5py reader of that h5, one read per sample; goal >= 3x.
Without --dataset it measures synthetic rendered-like episodes and says so.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mshab_h5 import MSHABReader, write_mshab_h5  # noqa: E402
from results import record  # noqa: E402

from hab_aux.store import ShardWriter, build_manifest, open_dataset  # noqa: E402

LOAD_KEYS = ("head_rgb", "head_depth", "hand_rgb", "hand_depth", "action")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def _synthetic(root: Path, episodes: int) -> Path:
    from hab_aux.store.synthetic import synthetic_episode

    with ShardWriter(root, 0, task="SetTable") as writer:
        for seed in range(episodes):
            writer.add_episode(*synthetic_episode(seed, steps=100))
    build_manifest(root)
    return root


def _subset(source, root: Path, episodes: int) -> Path:
    """The first episodes of a dataset as a store of their own, so both formats hold the same data."""
    with ShardWriter(root, 0, task="mixed") as writer:
        for i in range(min(episodes, source.num_episodes)):
            writer.add_episode(source.episode(i), source.episode_meta(i))
    build_manifest(root)
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--samples", type=int, default=3200)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="habaux-bench-"))
    try:
        ours_root = _subset(open_dataset(args.dataset), tmp / "ours", args.episodes) if args.dataset else _synthetic(tmp / "ours", args.episodes)
        ours = open_dataset(ours_root)
        h5 = write_mshab_h5(ours, tmp / "mshab.h5")
        steps = ours.num_steps
        ours_b, h5_b = _size(ours_root / "shards") / steps, _size(h5) / steps
        rgbd = sum(_size(ours_root / "shards" / "shard-00000.zarr" / k) for k in LOAD_KEYS) / steps

        rng = np.random.default_rng(0)
        batches = [rng.integers(0, steps, args.batch) for _ in range(args.samples // args.batch)]
        ours.steps(batches[0], LOAD_KEYS)  # open arrays once, as a training loader would
        t = time.perf_counter()
        for b in batches:
            ours.steps(b, LOAD_KEYS)
        ours_rate = len(batches) * args.batch / (time.perf_counter() - t)
        reader = MSHABReader(h5)
        t = time.perf_counter()
        for b in batches:
            for i in b:
                reader.step(int(i))
        h5_rate = len(batches) * args.batch / (time.perf_counter() - t)

        source = f"{args.dataset} (first {ours.num_episodes} episodes)" if args.dataset else f"{ours.num_episodes} synthetic episodes (not rendered)"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        body = f"""Data: {source}, {steps} transitions. Load average when it finished: {load} (samples/s are
comparable only between runs at a similar load).

| figure | ours | MS-HAB h5 gzip-5 | ratio | goal |
|---|---|---|---|---|
| bytes per transition, everything we store | {ours_b:,.0f} | {h5_b:,.0f} (RGB-D + action only) | {ours_b / h5_b:.2f}x | <= 0.5x |
| bytes per transition, RGB-D + action only | {rgbd:,.0f} | {h5_b:,.0f} | {rgbd / h5_b:.2f}x | |
| random-access samples/s (RGB-D both cameras + action, batches of {args.batch}) | {ours_rate:,.0f} | {h5_rate:,.0f} | {ours_rate / h5_rate:.1f}x | >= 3x |
"""
        command = "python benchmarks/storage_loading.py" + (f" --dataset {args.dataset} --episodes {args.episodes}" if args.dataset else "")
        record("Storage and loading", command, body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
