"""The loader's work per training batch, from the compressed stores and from `--decoded-cache`'s files.

Run: .venv/bin/python benchmarks/batch_loading.py --data DATASET [--preset small-conv] [--set KEY=VALUE ...]
     [--batch-size 8] [--shift 4] [--batches 40]

Builds the samples and the processor exactly as `habaux train` does (same overrides), then times, on
one thread, what a loader worker does per batch: read the steps, shift them, run the processor and
pack the batch. Each reader is timed over the same `--batches` batches after one pass over them
(so the files are in the page cache, as they are after a run's first epoch). On two cores this
work competes with the training step; `benchmarks/step_profile.py` times the step.
"""

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.train.config import TrainConfig  # noqa: E402
from hab_aux.train.model.build import build_model, make_processor  # noqa: E402
from hab_aux.train.packed import PackedBatch  # noqa: E402
from hab_aux.train.trainer import build_run  # noqa: E402


def per_batch(samples, processor, batches: int) -> tuple[float, float]:
    """(seconds to read and shift, seconds for all of it) per batch."""
    for b in range(batches):  # warm the page cache
        samples[b]
    started = time.perf_counter()
    for b in range(batches):
        samples[b]
    read = time.perf_counter() - started
    started = time.perf_counter()
    for b in range(batches):
        PackedBatch.pack(processor(samples[b]))
    return read / batches, (time.perf_counter() - started) / batches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--preset", default="small-conv")
    parser.add_argument("--recipe", default="sgvla-flow")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--shift", type=int, default=4)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = TrainConfig(data=tuple(args.data.split(",")), out="unused", preset=args.preset, recipe=args.recipe,
                         overrides=tuple(args.overrides), batch_size=args.batch_size, shift=args.shift)  # fmt: skip
    rows = []
    for name, run_config in (("compressed stores", config), ("`--decoded-cache`", replace(config, decoded_cache=True))):
        model_config, _, samples, stats, _ = build_run(run_config, 1)
        processor = make_processor(build_model(model_config, *stats))
        rows.append((name, *per_batch(samples, processor, args.batches)))
    body = "\n".join([
        f"Preset `{args.preset}`, batch {args.batch_size}, shift {args.shift}, one thread, the mean of {args.batches} batches "
        "after one pass over them. Seconds per batch:", "",
        "| reader | read + shift | read + shift + processor + pack |", "|---|---:|---:|",
        *(f"| {name} | {read:.4f} | {whole:.4f} |" for name, read, whole in rows),
    ])  # fmt: skip
    sets = "".join(f" --set {s}" for s in args.overrides)
    record(f"Batch loading ({args.preset}{sets})",
           f"python benchmarks/batch_loading.py --data {args.data} --preset {args.preset}{sets} "
           f"--batch-size {args.batch_size} --shift {args.shift} --batches {args.batches}", body)  # fmt: skip
    print(body)


if __name__ == "__main__":
    main()
