"""Where one training step's time goes, per SG-VLA component, on one CPU core.

Run: .venv/bin/python benchmarks/step_profile.py --data DATASET[,DATASET] [--preset small] [--recipe sgvla-flow]
     [--set KEY=VALUE ...] [--batch-size 8] [--stage joint]

Builds the model and one real batch exactly as `habaux train` does (same overrides), then times the
forward and backward pass of: the whole step; the vision encoders and projector; the prefix
encoding (vision + LLM); each enabled decoder, the flow expert and the token loss on detached
LLM states. Each figure is the mean of 5 repeats after one warm-up. Use it on an idle machine: a
preset's samples per second decide how much of its data it sees in a CPU hour.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.train.config import TrainConfig  # noqa: E402
from hab_aux.train.model.build import build_model, make_processor  # noqa: E402
from hab_aux.train.model.modeling_sgvla import Encoded  # noqa: E402
from hab_aux.train.packed import PackedBatch  # noqa: E402
from hab_aux.train.trainer import build_run  # noqa: E402


def seconds(fn, repeats: int = 5) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--recipe", default="sgvla-flow")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--stage", default="joint")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = TrainConfig(data=tuple(args.data.split(",")), out="unused", preset=args.preset, recipe=args.recipe,
                         overrides=tuple(args.overrides), batch_size=args.batch_size)  # fmt: skip
    model_config, _, samples, stats, _ = build_run(config, 1)
    model = build_model(model_config, *stats)
    batch = PackedBatch.pack(make_processor(model)(samples[0])).unpack(torch.device("cpu"))
    stage = model_config.stage(args.stage)
    model.set_stage(stage)

    def step():
        model.zero_grad()
        model(batch, stage)["total"].backward()

    enc = model.encode(batch)
    rows = [("whole step", seconds(step)),
            ("vision + projector", seconds(lambda: model.embed_images(batch.images).sum().backward())),
            ("prefix: vision + LLM", seconds(lambda: model.encode(batch).hidden.sum().backward()))]  # fmt: skip

    def detached() -> Encoded:
        return Encoded(enc.hidden.detach().requires_grad_(), enc.attention_mask, enc.prefix_mask)

    for spec in model_config.enabled_decoders:
        def decode(spec=spec):
            latents, mask = model.decoder_inputs(detached(), spec)
            model.decoders[spec.name](latents, mask).float().sum().backward()

        rows.append((f"decoder {spec.name} ({spec.kind})", seconds(decode)))
    if model.flow is not None:
        rows.append(("flow expert", seconds(lambda: model.flow.loss(
            batch.action_chunk, batch.action_chunk_valid, detached().hidden, enc.prefix_mask, state=batch.proprio).sum().backward())))
    rows.append(("token loss (LM head)", seconds(lambda: model.token_loss(detached(), batch.labels).backward())))
    total = rows[0][1]
    body = "\n".join([
        f"Preset `{args.preset}`, recipe `{args.recipe}`, stage `{args.stage}`, batch {args.batch_size}, one thread; "
        f"LLM sequence {enc.hidden.shape[1]} tokens. Forward + backward, seconds per batch:", "",
        "| part | s | share of the step |", "|---|---:|---:|",
        *(f"| {name} | {s:.3f} | {s / total:.0%} |" for name, s in rows),
        "", f"{args.batch_size / total:.1f} samples per second on one core.",
    ])  # fmt: skip
    sets = "".join(f" --set {s}" for s in args.overrides)
    batch = "" if args.batch_size == 8 else f" (batch {args.batch_size})"  # so that batch sizes keep their own sections
    record(f"Training step profile ({args.preset}{sets}){batch}",
           f"python benchmarks/step_profile.py --data {args.data} --preset {args.preset} --recipe {args.recipe}"
           f"{sets} --batch-size {args.batch_size} --stage {args.stage}", body)  # fmt: skip
    print(body)


if __name__ == "__main__":
    main()
