"""Open-loop action error of a checkpoint on recorded steps: has the model fitted its data?

Run: .venv/bin/python benchmarks/open_loop.py --checkpoint RUN_OR_CHECKPOINT --dataset DATASET [--episodes 10] [--steps 4]

For each column it draws `--steps` random steps from each of its first `--episodes` episodes and
compares the first predicted action with the recorded one: mean |predicted - recorded| over the 13
dimensions, in normalised units (the checkpoint's q01/q99 scaling, clipped to [-1, 1]), for the flow
head (fixed noise seed) and the token head, beside the error of always predicting 0 (no motion).
Closed-loop success needs far less than either: a policy that fails on its own training episodes
shows it here first, without the simulator.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.store import open_dataset  # noqa: E402
from hab_aux.tasks import column_key  # noqa: E402
from hab_aux.train.model.action_tokenizer import ActionBins  # noqa: E402
from hab_aux.train.model.build import make_processor  # noqa: E402
from hab_aux.train.model.processor import PROPRIO_KEY, proprio_of  # noqa: E402
from hab_aux.train.policy import SGVLAPolicy  # noqa: E402
from hab_aux.train.run_dir import latest_checkpoint  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--episodes", type=int, default=10, help="first episodes of each column")
    parser.add_argument("--steps", type=int, default=4, help="random steps per episode")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = open_dataset(args.dataset)
    meta = data.meta  # built from the stores on each access: read once
    model = SGVLAPolicy.from_checkpoint(latest_checkpoint(args.checkpoint)).model
    processor, bins, rng = make_processor(model), ActionBins(model.config.action.n_bins), np.random.default_rng(0)
    columns: dict[str, list[int]] = {}
    for i, m in enumerate(meta):
        columns.setdefault(column_key(m["subtask"], m["target_category"]), []).append(i)
    rows = []
    for name, episodes in sorted(columns.items()):
        samples = []
        for e in episodes[: args.episodes]:
            for step in rng.choice(np.arange(*data.episode_bounds(e)), args.steps, replace=False):
                sample = {**data.step(int(step)), "instruction": meta[e]["instruction"]}
                sample[PROPRIO_KEY] = proprio_of(sample["qpos"])
                samples.append(sample)
        batch = processor(samples, with_actions=False)
        target = model.stats.normalize(np.stack([s["action"] for s in samples]))
        with torch.no_grad():
            flow = None if model.flow is None else model.predict_flow(batch, generator=torch.Generator().manual_seed(0))
            tokens = bins.decode(model.predict_action_bins(batch)[:, : target.shape[1]].numpy())
        flow_error = "-" if flow is None else f"{np.abs(flow[:, 0].numpy() - target).mean():.3f}"  # "-": no flow expert
        rows.append(f"| {name} | {len(samples)} | {flow_error} | {np.abs(tokens - target).mean():.3f} "
                    f"| {np.abs(target).mean():.3f} |")  # fmt: skip
    body = "\n".join([
        f"Checkpoint `{args.checkpoint}` on `{args.dataset}`: mean |predicted - recorded| of the first action, normalised units.",
        "", "| column | steps | flow head | token head | predicting 0 |", "|---|---:|---:|---:|---:|", *rows,
    ])  # fmt: skip
    command = (f"python benchmarks/open_loop.py --checkpoint {args.checkpoint} --dataset {args.dataset} "
               f"--episodes {args.episodes} --steps {args.steps}")  # fmt: skip
    record(f"Open-loop action error ({args.checkpoint.name})", command, body)


if __name__ == "__main__":
    main()
