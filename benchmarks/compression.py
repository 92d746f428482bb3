"""Which lossless codec per key: compressed size and speed on rendered-like episodes.

Run: .venv/bin/python benchmarks/compression.py [--episodes 4] [--out benchmarks/compression.md]
Data: hab_aux.store.synthetic (static shaded scene seen through a drifting camera, a moving arm),
200-step episodes. Each key is encoded in chunks of `--chunk` steps, as the store chunks it.
The winner per key is written into hab_aux/store/codecs.py. Rerun on real frames once generate
has produced some (`--dataset PATH` reads episodes from a store instead of the generator).
"""

import argparse
import time
from pathlib import Path

import numpy as np
from numcodecs import GZip, Blosc, Zstd

from hab_aux import schema

CANDIDATES = {
    "gzip-5 (MS-HAB)": GZip(5),
    "zstd-1": Zstd(1),
    "zstd-3": Zstd(3),
    "zstd-9": Zstd(9),
    "blosc-zstd-5 shuffle": Blosc("zstd", 5, Blosc.SHUFFLE),
    "blosc-zstd-5 bitshuffle": Blosc("zstd", 5, Blosc.BITSHUFFLE),
    "blosc-lz4-5 shuffle": Blosc("lz4", 5, Blosc.SHUFFLE),
    "blosc-lz4-5 bitshuffle": Blosc("lz4", 5, Blosc.BITSHUFFLE),
}
KEYS = [k for k in schema.STEP_KEYS if k.startswith("head_")] + ["qpos", "action"]


def _episodes(args) -> list[dict[str, np.ndarray]]:
    if args.dataset:
        from hab_aux.store import open_dataset

        ds = open_dataset(args.dataset)
        return [ds.episode(i) for i in range(min(args.episodes, ds.num_episodes))]
    from hab_aux.store.synthetic import synthetic_episode

    return [synthetic_episode(seed, steps=200)[0] for seed in range(args.episodes)]


def _measure(codec, arr: np.ndarray, chunk: int) -> tuple[float, float, float]:
    """(compressed bytes per step, encode MB/s, decode MB/s) over chunks of `chunk` steps."""
    pieces = [np.ascontiguousarray(arr[i : i + chunk]) for i in range(0, len(arr), chunk)]
    t0 = time.perf_counter()
    encoded = [codec.encode(p) for p in pieces]
    t1 = time.perf_counter()
    for e in encoded:
        codec.decode(e)
    t2 = time.perf_counter()
    mb = arr.nbytes / 1e6
    return sum(len(e) for e in encoded) / len(arr), mb / (t1 - t0), mb / (t2 - t1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--chunks", default="1,10,50")
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".md")))
    args = parser.parse_args()
    episodes = _episodes(args)
    lines = [
        f"# Lossless compression per key ({len(episodes)} episodes of {args.dataset or 'synthetic data'})",
        "",
        "| key | chunk (steps) | codec | raw B/step | B/step | ratio | enc MB/s | dec MB/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in KEYS:
        arr = np.concatenate([ep[key] for ep in episodes])
        raw = arr.nbytes / len(arr)
        for chunk in (int(c) for c in args.chunks.split(",")):
            for name, codec in CANDIDATES.items():
                size, enc, dec = _measure(codec, arr, chunk)
                row = [key, chunk, name, f"{raw:.0f}", f"{size:.0f}", f"{raw / size:.1f}", f"{enc:.0f}", f"{dec:.0f}"]
                lines.append("| " + " | ".join(map(str, row)) + " |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
