"""Storage and loading against MS-HAB's format, measured side by side on the same episodes.

Run: .venv/bin/python benchmarks/storage_loading.py --dataset data/SetTable [--episodes 60] [--depth-codec jpegxl]
  - bytes per transition: our store (every key: RGB-D, segmentation, masks, labels) vs the same
    episodes as MS-HAB writes them (h5, gzip-5, RGB + depth + actions only); goal <= 0.5x. Then
    the same per key: where the bytes go. The episodes are rewritten with `--depth-codec`
    (`habaux generate`'s option, default delta-zstd).
  - random-access training samples/s (head+hand RGB-D + action): our reader, one read per batch,
    vs an h5py reader of that h5, one read per sample, taking turns batch by batch; goal >= 3x.
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
from mshab_h5 import MSHABReader, key_bytes, write_mshab_h5  # noqa: E402
from results import record  # noqa: E402

from hab_aux import schema  # noqa: E402
from hab_aux.store import ShardWriter, build_manifest, codecs, open_dataset  # noqa: E402

LOAD_KEYS = ("head_rgb", "head_depth", "hand_rgb", "hand_depth", "action")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def _synthetic(root: Path, episodes: int, depth_codec: str) -> Path:
    from hab_aux.store.synthetic import synthetic_episode

    with ShardWriter(root, 0, task="SetTable", depth_codec=depth_codec) as writer:
        for seed in range(episodes):
            writer.add_episode(*synthetic_episode(seed, steps=100))
    build_manifest(root)
    return root


def _subset(source, root: Path, episodes: int, depth_codec: str) -> Path:
    """The first episodes of a dataset as a store of their own, so both formats hold the same data."""
    with ShardWriter(root, 0, task="mixed", depth_codec=depth_codec) as writer:
        for i in range(min(episodes, source.num_episodes)):
            writer.add_episode(source.episode(i), source.episode_meta(i))
    build_manifest(root)
    return root


def _per_key_rows(shard: Path, h5_bytes: dict[str, int], steps: int, total: float) -> str:
    """Markdown rows: each step key's bytes per transition (its folder in the shard), ours and the h5's."""
    ours = {k: _size(shard / k) / steps for k in schema.STEP_KEYS}
    ours["the rest: episode metadata, episode_ends, zarr.json and commit.json"] = total - sum(ours.values())
    rows = []
    for key, b in sorted(ours.items(), key=lambda kv: -kv[1]):
        theirs = h5_bytes[key] / steps if key in h5_bytes else None
        h5 = f"{theirs:,.0f}" if theirs is not None else "-"
        ratio = f"{b / theirs:.2f}x" if theirs else ""
        rows.append(f"| {key} | {b:,.0f} | {b / total:.1%} | {h5} | {ratio} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--samples", type=int, default=3200)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--depth-codec", default=codecs.DEFAULT_DEPTH_CODEC, choices=list(codecs.DEPTH_CODECS))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="habaux-bench-"))
    try:
        if args.dataset:
            ours_root = _subset(open_dataset(args.dataset), tmp / "ours", args.episodes, args.depth_codec)
        else:
            ours_root = _synthetic(tmp / "ours", args.episodes, args.depth_codec)
        ours = open_dataset(ours_root)
        h5 = write_mshab_h5(ours, tmp / "mshab.h5")
        steps = ours.num_steps
        ours_b, h5_b = _size(ours_root / "shards") / steps, _size(h5) / steps
        shard = ours_root / "shards" / "shard-00000.zarr"
        rgbd = sum(_size(shard / k) for k in LOAD_KEYS) / steps
        per_key = _per_key_rows(shard, key_bytes(h5), steps, ours_b)

        rng = np.random.default_rng(0)
        batches = [rng.integers(0, steps, args.batch) for _ in range(args.samples // args.batch)]
        ours.steps(batches[0], LOAD_KEYS)  # open arrays once, as a training loader would
        reader = MSHABReader(h5)
        # the two readers take turns batch by batch, so a busy machine slows both alike
        ours_s = h5_s = 0.0
        for b in batches:
            t0 = time.perf_counter()
            ours.steps(b, LOAD_KEYS)
            t1 = time.perf_counter()
            for i in b:
                reader.step(int(i))
            ours_s, h5_s = ours_s + t1 - t0, h5_s + time.perf_counter() - t1
        ours_rate, h5_rate = len(batches) * args.batch / ours_s, len(batches) * args.batch / h5_s

        source = f"{args.dataset} (first {ours.num_episodes} episodes)" if args.dataset else f"{ours.num_episodes} synthetic episodes (not rendered)"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        body = f"""Data: {source}, {steps} transitions. Load average when it finished: {load}; niceness {os.nice(0)}
(samples/s are comparable only between runs at a similar load and priority; the two readers take turns batch by batch).

| figure | ours | MS-HAB h5 gzip-5 | ratio | goal |
|---|---|---|---|---|
| bytes per transition, everything we store | {ours_b:,.0f} | {h5_b:,.0f} (RGB-D + action only) | {ours_b / h5_b:.2f}x | <= 0.5x |
| bytes per transition, RGB-D + action only | {rgbd:,.0f} | {h5_b:,.0f} | {rgbd / h5_b:.2f}x | |
| random-access samples/s (RGB-D both cameras + action, batches of {args.batch}) | {ours_rate:,.0f} | {h5_rate:,.0f} | {ours_rate / h5_rate:.1f}x | >= 3x |

Bytes per transition by key, depth codec {args.depth_codec} (largest first):

| key | ours | share of ours | MS-HAB h5 gzip-5 | ratio |
|---|---|---|---|---|
{per_key}
"""
        command = "python benchmarks/storage_loading.py" + (f" --dataset {args.dataset} --episodes {args.episodes}" if args.dataset else "")
        section = "Storage and loading"
        if args.depth_codec != codecs.DEFAULT_DEPTH_CODEC:
            command, section = f"{command} --depth-codec {args.depth_codec}", f"{section} (--depth-codec {args.depth_codec})"
        record(section, command, body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
