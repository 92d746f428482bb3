"""What appending an episode costs for different shard-file lengths (codecs.SHARD_STEPS).

Run: .venv/bin/python benchmarks/append.py [--episodes 20] [--out benchmarks/append.md]
A shard file of zarr's sharding codec is rewritten whole whenever an append touches it, so long
shard files make late appends slower; short ones make more files. Episodes: synthetic, 200 steps.
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from hab_aux.store import ShardWriter, codecs, open_dataset
from hab_aux.store.synthetic import synthetic_episode


def _bytes_written() -> int:
    """Bytes this process has passed to write() so far (Linux): deterministic, unlike timings."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["wchar"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--lengths", default="200,1000,4000")
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".md")))
    args = parser.parse_args()
    base = [synthetic_episode(seed, steps=200) for seed in range(4)]
    with tempfile.TemporaryDirectory() as warmup:  # first-call costs (imports, codec setup) out of the table
        ShardWriter(warmup, 0, task="SetTable").add_episode(*base[0])
    lines = [
        f"# Append cost per episode ({args.episodes} episodes of 200 steps, every write fsynced)",
        "",
        "| SHARD_STEPS | first 5 eps s/ep | last 5 eps s/ep | MB written/ep | files | bytes/step | 256-step batch s |",
        "|---|---|---|---|---|---|---|",
    ]
    for shard_steps in (int(n) for n in args.lengths.split(",")):
        codecs.SHARD_STEPS = shard_steps
        root = Path(tempfile.mkdtemp())
        writer, times = ShardWriter(root, 0, task="SetTable"), []
        written = _bytes_written()
        for i in range(args.episodes):
            t0 = time.perf_counter()
            writer.add_episode(*base[i % len(base)])
            times.append(time.perf_counter() - t0)
        written = (_bytes_written() - written) / args.episodes / 1e6
        files = [f for f in root.rglob("*") if f.is_file()]
        ds = open_dataset(root)
        t0 = time.perf_counter()
        ds.steps(np.random.default_rng(0).integers(0, ds.num_steps, 256))
        batch = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in files) / ds.num_steps
        first, last = sum(times[:5]) / 5, sum(times[-5:]) / 5
        lines.append(f"| {shard_steps} | {first:.3f} | {last:.3f} | {written:.2f} | {len(files)} | {size:,.0f} | {batch:.3f} |")
        print(lines[-1], flush=True)
        shutil.rmtree(root)
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
