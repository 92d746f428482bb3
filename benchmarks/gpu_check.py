"""The GPU check (`scripts/gpu_check.sh`): every GPU path of hab-aux measured on one GPU, written to
the "GPU check" section of benchmarks/results.md.

1. GPU-simulated generation: `habaux generate --sim-backend gpu --num-envs K` (SetTable pick) per K:
   steps/s (wall time, start-up included) and `habaux inspect --verify` of each store (every chunk
   against the schema, so the same keys, dtypes and shapes as CPU episodes).
2. One eval column: `habaux eval --sim-backend gpu --num-envs 16 --policy expert --subtasks pick`.
3. sgvla-1.3b training, the full architecture with random weights from its configs (no hub is
   reachable there; the real-weights path is the same code plus `from_pretrained`), in bf16 autocast
   on the data of step 1: recipe sgvla (all decoders, joint stage) per batch size, samples/s, peak
   memory and MFU; and the flow stage (sgvla-flow, backbone frozen).
4. `select_action` of that model: token head and flow head, at batch 1 and 16.

`--dry-run` runs the same code on CPU with the tiny preset, the CPU simulator and toy sizes, and writes
to `--results` (a test runs it): the plumbing is proven without a GPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import RESULTS, record  # noqa: E402

# H200 dense bf16 peak (NVIDIA's datasheet figure without sparsity), the MFU denominator.
PEAK_FLOPS = {"cuda": 989e12}
RANDOM_1_3B = ["vision.dinov2.pretrained=null", "vision.siglip.pretrained=null", "llm.model.pretrained=null",
               "llm.tokenizer=builtin:tiny"]  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    preset: str
    overrides: tuple[str, ...]
    device: str
    sim_backend: str
    num_envs: tuple[int, ...]
    episodes_per_env: int
    max_steps: int
    batch_sizes: tuple[int, ...]
    train_steps: int
    eval_envs: int


GPU = Sizes("sgvla-1.3b", tuple(RANDOM_1_3B), "cuda", "gpu", (16, 64), 2, 200, (8, 16, 32), 20, 16)
DRY = Sizes("tiny", (), "cpu", "cpu", (1,), 2, 30, (2,), 3, 1)


def habaux(*args: str) -> float:
    """Run the CLI as a user would; return its wall time. A failure stops the check with its output."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hab_aux", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"habaux {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def generation(sizes: Sizes, root: Path) -> tuple[list[str], Path]:
    from hab_aux.store import open_dataset

    rows, last = [], None
    for k in sizes.num_envs:
        out = root / f"gen-{k}"
        episodes = k * sizes.episodes_per_env
        wall = habaux("generate", "--task", "SetTable", "--subtasks", "pick", "--episodes", str(episodes),
                      "--sim-backend", sizes.sim_backend, "--num-envs", str(k), "--max-steps", str(sizes.max_steps),
                      "--keep-failures", "--out", str(out))  # throughput, not success: every episode counts  # fmt: skip
        steps = int(open_dataset(out).episode_ends[-1])
        habaux("inspect", str(out), "--verify")
        rows.append(f"| generate, SetTable pick, {k} env(s) | {episodes} episodes, {steps} steps in {wall:.0f} s: "
                    f"{steps / wall:.0f} steps/s; `inspect --verify` passed |")  # fmt: skip
        last = out
    return rows, last


def evaluation(sizes: Sizes, root: Path) -> str:
    out = root / "eval.json"
    wall = habaux("eval", "--policy", "expert", "--task", "SetTable", "--subtasks", "pick", "--episodes", str(sizes.eval_envs),
                  "--sim-backend", sizes.sim_backend, "--num-envs", str(sizes.eval_envs), "--json", str(out))  # fmt: skip
    column = json.loads(out.read_text())["policies"]["expert"]["columns"]["Pick"]
    return (f"| eval, expert, SetTable Pick, {sizes.eval_envs} env(s) | success {column['success_rate']:.2f} of "
            f"{column['episodes']} in {wall:.0f} s |")


def flops_per_sample(config, prompt_tokens: int = 32) -> float:
    """Training FLOPs of one sample, 6 N T per component (N: parameters without embeddings, T: tokens it
    processes; the LLM reads every image's patches, the prompt and the action tokens). Attention's T^2
    term is left out, so MFU is under-counted."""
    from hab_aux.train.model.build import build_meta_model, parameter_counts

    model = build_meta_model(config)
    counts = parameter_counts(model)
    images = model.encoded_images  # images the encoders see per sample (1 with vision.stack_slots)
    patches = model.vision.patches_per_image
    vision = sum(counts[name] * model.vision.tokens_per_image(name) for name in model.vision.names)
    llm = counts["llm"] - model.llm.get_input_embeddings().weight.numel()
    tokens = images * patches + prompt_tokens + config.action.chunk * 13 + 1
    return 6.0 * (vision * images + llm * tokens)


def training(sizes: Sizes, data: Path, root: Path, console: Console) -> tuple[list[str], Path]:
    from hab_aux.train.presets import get_preset, override
    from hab_aux.train.trainer import TrainConfig, train

    rows, checkpoint = [], None
    cuda = sizes.device == "cuda"
    config = override(get_preset(sizes.preset), list(sizes.overrides))
    for recipe, stage in (("sgvla", "joint"), ("sgvla-flow", "expert")):
        for batch in sizes.batch_sizes:
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            run = root / f"train-{recipe}-{batch}"
            cfg = TrainConfig(data=(str(data),), out=str(run), preset=sizes.preset, recipe=recipe, overrides=sizes.overrides,
                              batch_size=batch, max_steps=sizes.train_steps, schedule=f"{stage}={sizes.train_steps}",
                              num_workers=4 if cuda else 0, save_every=10**9, device=sizes.device)  # fmt: skip
            try:
                checkpoint = train(cfg, console)  # the last, sgvla-flow, has both heads for `inference`
            except torch.OutOfMemoryError:
                rows.append(f"| train {recipe} ({stage}), batch {batch} | out of memory |")
                continue
            records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            steady = records[len(records) // 2 :]
            samples = float(np.mean([r["samples_per_s"] for r in steady]))
            memory = f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB peak" if cuda else "CPU"
            mfu = ""
            if stage == "joint" and cuda:
                mfu = f", MFU {samples * flops_per_sample(config) / PEAK_FLOPS['cuda']:.1%}"
            rows.append(f"| train {recipe} ({stage}), batch {batch} | {samples:.1f} samples/s, {memory}{mfu} |")
    return rows, checkpoint


def inference(checkpoint: Path, data: Path, device: str) -> list[str]:
    from hab_aux.store import open_dataset
    from hab_aux.train.model.build import make_processor
    from hab_aux.train.policy import SGVLAPolicy

    dataset = open_dataset(data)
    observation = dataset.step(0)
    rows = []
    for head in ("tokens", "flow"):
        policy = SGVLAPolicy.from_checkpoint(checkpoint, head=head, device=device)
        policy.reset(None)
        for _ in range(3):
            policy.select_action(observation, "pick up the bowl")
        n = 30
        start = time.perf_counter()
        for _ in range(n):
            policy.select_action(observation, "pick up the bowl")
        if device == "cuda":
            torch.cuda.synchronize()
        single = n / (time.perf_counter() - start)
        model, config = policy.model, policy.model.config
        samples = [{**dataset.step(i), "instruction": "pick up the bowl"} for i in range(16)]
        batch = make_processor(model)(samples, with_actions=False).to(device)
        predict = model.predict_flow if head == "flow" else model.predict_action_bins
        predict(batch)
        start = time.perf_counter()
        for _ in range(3):
            predict(batch)
        if device == "cuda":
            torch.cuda.synchronize()
        per_plan = (time.perf_counter() - start) / 3
        executed = config.flow.execute if head == "flow" else config.action.execute
        rows.append(f"| select_action, {head} head | batch 1: {single:.1f} actions/s; batch 16: "
                    f"{16 * executed / per_plan:.0f} actions/s ({executed} executed per plan) |")  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny preset, CPU simulator, toy sizes")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file to write the section into")
    args = parser.parse_args(argv)
    sizes = DRY if args.dry_run else GPU
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device visible; use --dry-run on a CPU machine")
    console = Console(quiet=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="habaux-gpu-check-") as tmp:
        root = Path(tmp)
        gen_rows, data = generation(sizes, root)
        eval_row = evaluation(sizes, root)
        train_rows, checkpoint = training(sizes, data, root, console)
        infer_rows = (inference(checkpoint, data, sizes.device) if checkpoint is not None else
                      ["| select_action | not measured: every training run ran out of memory, so no checkpoint |"])  # fmt: skip
    device = torch.cuda.get_device_name(0) if sizes.device == "cuda" else "CPU (dry run: tiny preset, toy sizes)"
    body = "\n".join([
        f"Device: {device}. Model: {sizes.preset}" + (" built from its configs with random weights (no hub there), "
        "the builtin tokenizer; bf16 autocast" if sizes.preset == "sgvla-1.3b" else "") + ". "
        f"MFU = samples/s x 6 N T (attention's T^2 left out) / {PEAK_FLOPS['cuda'] / 1e12:.0f} TFLOP/s.",
        "", "| what | figure |", "|---|---|", *gen_rows, eval_row, *train_rows, *infer_rows, "",
        f"Whole check: {time.perf_counter() - start:.0f} s.",
    ])  # fmt: skip
    command = "bash scripts/gpu_check.sh" + (" --dry-run" if args.dry_run else "")
    record("GPU check" + (" (dry run)" if args.dry_run else ""), command, body, path=args.results)


if __name__ == "__main__":
    main()
