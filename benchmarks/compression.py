"""Lossless codecs for the image keys, on real 128x128 frames: bytes, encode and decode ms per frame.

Run: python benchmarks/compression.py --dataset data/SetTable-240 [--windows 16] [--repeat 3]

Frames: `--windows` runs of 10 consecutive steps, each from a random episode, of both cameras
(head and hand), so every kind has 2 x 10 x windows frames. Each codec encodes the chunks the
store would hold: ten consecutive frames per chunk for zstd as schema 2 stores it (its window
reaches into the earlier frames of the chunk), and for "delta + zstd-9" (numcodecs' Delta first:
each value minus the one before it, its left neighbour in the row); one frame per chunk for zstd-9
alone and for every image codec. Codecs come from numcodecs and imagecodecs.numcodecs, used as
they are. Image codecs take unsigned pixels, so instance ids (int16) are given to them as uint16
and the bool masks as uint8 (a view: the same bits). Every chunk is decoded and compared bit for
bit with the original frames; a codec that does not give them back exactly is listed as "not
lossless". Times are wall clock, one thread, the best of `--repeat` passes. `*` marks what
hab_aux/store/codecs.py stores that kind with by default (`habaux generate --depth-codec jpegxl`
stores depth with JPEG-XL lossless, effort 7, instead).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from imagecodecs import numcodecs as ic
from numcodecs import Delta, Zstd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux import schema  # noqa: E402
from hab_aux.store import codecs, open_dataset  # noqa: E402

KINDS = ("rgb", "depth", "seg", "mask")
WINDOW = 10  # consecutive steps: schema 2's inner chunk of image keys
PIXELS = {"seg": np.uint16, "mask": np.uint8}  # how image codecs are given the signed / bool kinds



# (name, steps per chunk, kinds it applies to (None: all), the codecs a chunk goes through in order)
CANDIDATES = [
    ("zstd-9 (schema 2)", WINDOW, None, [Zstd(9)]),
    ("zstd-9", 1, None, [Zstd(9)]),
    ("delta + zstd-9", WINDOW, ("depth",), [Delta("<u2"), Zstd(9)]),
    *[(f"JPEG-XL lossless, effort {e}", 1, None, [ic.Jpegxl(lossless=True, effort=e)]) for e in (1, 2, 3, 4, 7)],
    ("JPEG-LS", 1, None, [ic.Jpegls()]),
    ("PNG (zlib 6)", 1, None, [ic.Png(level=6)]),
    *[(f"WebP lossless, method {m}", 1, ("rgb",), [ic.Webp(lossless=True, method=m)]) for m in (0, 1, 4)],
    ("QOI", 1, ("rgb",), [ic.Qoi()]),
    ("LERC lossless + zstd", 1, None, [ic.Lerc(level=0, compression="zstd")]),
    ("HTJ2K reversible", 1, None, [ic.Htj2k(reversible=True)]),
    ("JPEG 2000 reversible", 1, None, [ic.Jpeg2k(reversible=True)]),
]


def sample_windows(ds, windows: int, seed: int) -> dict[str, list[np.ndarray]]:
    """Per kind, 2 x `windows` arrays of WINDOW consecutive frames (head and hand)."""
    rng = np.random.default_rng(seed)
    long_enough = [i for i in range(ds.num_episodes) if np.subtract(*ds.episode_bounds(i)[::-1]) >= WINDOW]
    if not long_enough:
        raise SystemExit(f"no episode of {WINDOW} or more steps in {ds.roots}")
    keys = tuple(f"{cam}_{kind}" for cam in schema.CAMERAS for kind in KINDS)
    out: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}
    for episode in rng.choice(long_enough, windows, replace=windows > len(long_enough)):
        start, end = ds.episode_bounds(int(episode))
        first = int(rng.integers(start, end - WINDOW + 1))
        steps = ds.steps(np.arange(first, first + WINDOW), keys)
        for key, frames in steps.items():
            out[key.split("_", 1)[1]].append(frames)
    return out


def _encode(chain, chunk: np.ndarray) -> bytes:
    for codec in chain:
        chunk = codec.encode(chunk)
    return chunk


def _decode(chain, data: bytes, like: np.ndarray) -> np.ndarray:
    for codec in reversed(chain):
        data = codec.decode(data)
        data = np.frombuffer(data, like.dtype) if isinstance(data, (bytes, bytearray)) else np.asarray(data)
    return data.reshape(like.shape).view(like.dtype) if data.size == like.size else data


def measure(chain, chunks: list[np.ndarray], repeat: int) -> tuple[float, float, float, bool]:
    """(bytes per frame, encode ms per frame, decode ms per frame, bit-exact) over `chunks`."""
    frames = sum(len(c) for c in chunks)
    encode = decode = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        encoded = [_encode(chain, c) for c in chunks]
        t1 = time.perf_counter()
        decoded = [_decode(chain, e, c) for e, c in zip(encoded, chunks)]
        t2 = time.perf_counter()
        encode, decode = min(encode, t1 - t0), min(decode, t2 - t1)
    exact = all(d.dtype == c.dtype and np.array_equal(d, c) for d, c in zip(decoded, chunks))
    size = sum(len(e) for e in encoded) / frames
    return size, 1e3 * encode / frames, 1e3 * decode / frames, exact


def _chunks(windows: list[np.ndarray], steps: int, kind: str, chain) -> list[np.ndarray]:
    if kind in PIXELS and not isinstance(chain[-1], Zstd):  # an image codec
        windows = [w.view(PIXELS[kind]) for w in windows]
    return [np.ascontiguousarray(w[i : i + steps]) for w in windows for i in range(0, len(w), steps)]


def kind_table(kind: str, windows: list[np.ndarray], repeat: int) -> tuple[list[str], float, float]:
    """Markdown rows of one kind; bytes per frame of schema 2's codec and of the stored one."""
    stored, stored_steps = codecs.stored_chain(f"{schema.CAMERAS[0]}_{kind}", codecs.DEFAULT_DEPTH_CODEC)
    rows, sizes = [], {}
    for name, steps, kinds, chain in CANDIDATES:
        if kinds is not None and kind not in kinds:
            continue
        try:
            size, enc, dec, exact = measure(chain, _chunks(windows, steps, kind, chain), repeat)
        except (ValueError, RuntimeError) as err:  # the codec refuses this dtype or shape
            rows.append(f"| {kind} | {name} | {steps} | n/a: {str(err).splitlines()[0]} | | | | |")
            continue
        is_stored = (steps, [c.get_config() for c in chain]) == (stored_steps, [c.get_config() for c in stored])
        sizes[name] = size
        sizes["stored"] = size if is_stored else sizes.get("stored")
        base = sizes[CANDIDATES[0][0]]
        lossless = "yes" if exact else "**not lossless**"
        row = [kind, name + (" *" if is_stored else ""), steps, f"{size:,.0f}", f"{size / base:.2f}", f"{enc:.2f}", f"{dec:.2f}", lossless]
        rows.append("| " + " | ".join(map(str, row)) + " |")
        print(rows[-1], flush=True)
    if sizes.get("stored") is None:
        stored_config = [c.get_config() for c in stored]
        raise SystemExit(f"{kind}: the stored codecs {stored_config} over {stored_steps} steps are not among the candidates")
    return rows, sizes[CANDIDATES[0][0]], sizes["stored"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--windows", type=int, default=16, help="runs of 10 consecutive steps sampled per camera")
    parser.add_argument("--repeat", type=int, default=3, help="passes timed; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ds = open_dataset(args.dataset)
    samples = sample_windows(ds, args.windows, args.seed)
    rows, chosen_bytes, base_bytes = [], 0.0, 0.0
    for kind in KINDS:
        kind_rows, base, stored = kind_table(kind, samples[kind], args.repeat)
        rows += kind_rows
        chosen_bytes += len(schema.CAMERAS) * stored
        base_bytes += len(schema.CAMERAS) * base
    frames = len(schema.CAMERAS) * WINDOW * args.windows
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = f"""Data: {args.dataset} ({ds.num_episodes} episodes), {frames} frames per kind ({args.windows} runs of {WINDOW} consecutive
steps, both cameras). Load average when it finished: {load} (on a busy machine the times compare within this table only).

| kind | codec | frames per chunk | bytes per frame | vs schema 2 | encode ms per frame | decode ms per frame | lossless |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Images of one transition (both cameras, all four kinds): {base_bytes:,.0f} bytes with schema 2's codecs,
{chosen_bytes:,.0f} with the codecs marked * ({chosen_bytes / base_bytes:.2f}x).
"""
    command = f"python benchmarks/compression.py --dataset {args.dataset} --windows {args.windows} --repeat {args.repeat}"
    record("Image codecs", command, body)


if __name__ == "__main__":
    main()
