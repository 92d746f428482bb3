"""Training throughput, the share of a step spent waiting for data, and select_action rate.

Run: .venv/bin/python benchmarks/training_inference.py --dataset data/SetTable [--steps 30] [--threads 1]
  - tiny preset, recipe sgvla (all decoders), batch 8, 2 loader workers: steps/s and samples/s
    after warm-up, and the mean fraction of each step spent waiting for the next batch (goal < 5%);
  - select_action of the trained tiny checkpoint: actions per second with the token head and
    with the flow head (one re-plan every `flow.execute` actions).
On a GPU machine, `--preset sgvla-1.3b` needs the real weights (hub id or local folders).
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, record, record_throughput  # noqa: E402

from hab_aux.store import open_dataset  # noqa: E402
from hab_aux.train.checkpoint import load_config  # noqa: E402
from hab_aux.train.policy import SGVLAPolicy  # noqa: E402
from hab_aux.train.trainer import TrainConfig, train  # noqa: E402


def _actions_per_second(checkpoint: Path, head: str, observation: dict, n: int) -> float:
    policy = SGVLAPolicy.from_checkpoint(checkpoint, head=head)
    policy.reset(None)
    policy.select_action(observation, "pick up the bowl")
    t = time.perf_counter()
    for _ in range(n):
        policy.select_action(observation, "pick up the bowl")
    return n / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, help="torch intra-op threads of the main process (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="habaux-train-bench-"))
    try:
        config = TrainConfig(data=(str(args.dataset),), out=str(tmp / "run"), preset=args.preset, recipe="sgvla-flow",
                             batch_size=args.batch, num_workers=args.workers, max_steps=args.steps,
                             schedule=f"adapt={args.steps}", save_every=10**9)  # fmt: skip
        t = time.perf_counter()
        checkpoint = train(config, Console(quiet=True))
        wall = time.perf_counter() - t
        records = [json.loads(line) for line in (tmp / "run" / "metrics.jsonl").read_text().splitlines()]
        steady = records[5:] or records
        samples_per_s = np.mean([r["samples_per_s"] for r in steady])
        wait = np.mean([r["data_wait_fraction"] for r in steady])
        observation = open_dataset(args.dataset).step(0)
        tokens = _actions_per_second(checkpoint, "tokens", observation, 20)
        flow = _actions_per_second(checkpoint, "flow", observation, 20)
        device = "GPU" if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)"
        action = load_config(checkpoint).action
        body = f"""Preset {args.preset}, recipe sgvla-flow (all five decoders), batch {args.batch}, {args.workers} loader workers, {device}.

| figure | value | goal |
|---|---|---|
| training steps/s (after 5 warm-up steps) | {samples_per_s / args.batch:.2f} | |
| training samples/s | {samples_per_s:.1f} | |
| share of a step waiting for data | {wait:.1%} | < 5% |
| whole run of {args.steps} steps, model build and checkpoint included | {wall:.1f} s | |
| select_action, token head (chunk {action.chunk}, {action.execute} executed): actions/s | {tokens:.1f} | >= 20/s for sgvla-1.3b on one H100 |
| select_action, flow head (chunk 8, 2 executed): actions/s | {flow:.1f} | |

sgvla-1.3b samples/s, MFU and actions/s on a GPU: not yet measured (no GPU was lent to this task).
"""
        threads = f" --threads {args.threads}" if args.threads else ""
        preset = f" --preset {args.preset}" if args.preset != "tiny" else ""
        workers = f" --workers {args.workers}" if args.workers != 2 else ""
        command = f"python benchmarks/training_inference.py --dataset {args.dataset}{preset} --steps {args.steps}{threads}{workers}"
        record(f"Training and inference ({args.preset})", command, body)
        record_throughput(args.preset, dict(
            steps_per_s=round(float(samples_per_s / args.batch), 3), batch=args.batch, threads=torch.get_num_threads(),
            loader_workers=args.workers, device=device, command=command, machine=machine(),
            measured=time.strftime("%Y-%m-%d", time.gmtime()),
        ))  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
