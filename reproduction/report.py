"""OUT/report.md of `habaux reproduce`: our success rates beside the paper's, then how they were made."""

import json
import os
import platform
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from hab_aux.reproduction.definition import Reproduction
from hab_aux.reproduction.stages import (
    data_stage,
    eval_config,
    eval_stage,
    stage_record,
    train_command,
    train_config,
    train_stage,
)
from hab_aux.store import open_dataset
from hab_aux.tasks import column_key
from hab_aux.train.run_dir import latest_checkpoint


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ours(rep: Reproduction, row) -> dict[str, float]:
    """{column label: success rate, "Avg": mean over every column} of one row, from its eval JSONs."""
    results = {d.task: json.loads(rep.eval_json(row, d.task).read_text())["policies"][row.label]["columns"]
               for d in rep.ablation.data}  # fmt: skip
    rates = {label: results[data.task][column.name]["success_rate"] for label, data, column in rep.ablation.columns}
    return {**rates, "Avg": sum(rates.values()) / len(rates)}


def results_table(rep: Reproduction) -> list[str]:
    labels = [label for label, _, _ in rep.ablation.columns] + ["Avg"]
    lines = ["| row | numbers | " + " | ".join(labels) + " |", "|---|---|" + "---:|" * len(labels)]
    for row in rep.ablation.rows:
        ours = _ours(rep, row)
        lines.append(f"| {row.label} | ours | " + " | ".join(_rate(ours[k]) for k in labels) + " |")
        if row.paper:
            paper = row.paper.numbers()
            lines.append(f"| | paper ({row.paper.table}: {row.paper.row}) | " + " | ".join(_rate(paper.get(k)) for k in labels) + " |")
        else:
            lines.append("| | paper | " + " | ".join("—" for _ in labels) + " |")
    return lines


def _wall(record: dict | None) -> str:
    if record is None:
        return "—"
    return _duration(record["wall_s"]) + (" (resumed: this part only)" if record.get("resumed") else "")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def episodes_per_column(folder: Path) -> str:
    """What a dataset holds, by column key: "pick 80, place 80, open-drawer 50"."""
    dataset = open_dataset(folder)
    keys = [column_key(s, c) for s, c in zip(dataset.meta_column("subtask").tolist(), dataset.meta_column("target_category").tolist())]
    return ", ".join(f"{k} {n}" for k, n in Counter(keys).items())


def setup_section(rep: Reproduction) -> list[str]:
    s, out = rep.scale, rep.out
    lines = ["## Setup", "", f"Scale `{s.name}`: {s.cost}.", ""]
    lines += ["### Data", "", "| dataset | task | episodes per column | episodes | transitions | source | wall time |", "|---|---|---|---:|---:|---|---|"]
    transitions = 0
    for data, folders in rep.datasets.items():
        record = stage_record(out, data_stage(data))
        source = "reused (--reuse-data)" if rep.reuse_data else f"`{record['command']}`"
        for folder in folders:
            manifest = json.loads((folder / "manifest.json").read_text())
            transitions += manifest["num_steps"]
            lines.append(f"| {folder} | {data.task} | {episodes_per_column(folder)} | {manifest['num_episodes']} | "
                         f"{manifest['num_steps']} | {source} | {_wall(record)} |")  # fmt: skip
    budget = f"{rep.ablation.epochs:g} epochs of backbone training per run" + (
        f", an epoch being {s.steps_per_epoch} optimizer steps" if s.steps_per_epoch else ", an epoch being a pass over the data")
    lines += ["", "### Training", "", f"Preset `{s.preset}`, batch {s.batch_size} x {s.grad_accum} accumulated, lr {s.lr:g}; "
              f"budget: {budget} (the flow head's expert stage on top).", "",
              "| run | schedule | optimizer steps | samples (passes over the data) | wall time |", "|---|---|---:|---:|---|"]  # fmt: skip
    commands = []
    for recipe in rep.ablation.recipes:
        config = train_config(rep, recipe)
        steps = int(latest_checkpoint(rep.run_dir(recipe)).name.removeprefix("step-"))
        samples = steps * s.batch_size * s.grad_accum
        lines.append(f"| {rep.run_dir(recipe)} | {config.schedule} | {steps} | {samples} ({samples / transitions:.2f}) | "
                     f"{_wall(stage_record(out, train_stage(recipe)))} |")  # fmt: skip
        commands.append(train_command(config))
    ev = eval_config(rep)
    lines += ["", "### Evaluation", "", f"{ev.episodes} episode{'s' if ev.episodes != 1 else ''} per column on {ev.split} layouts (seed offset {ev.seed}), "
              f"at most {ev.max_steps} steps each; every row sees the same layouts.", "",
              "| row | task | JSON | wall time |", "|---|---|---|---|"]  # fmt: skip
    for row in rep.ablation.rows:
        for data in rep.ablation.data:
            record = stage_record(out, eval_stage(rep, row, data))
            lines.append(f"| {row.label} | {data.task} | {rep.eval_json(row, data.task)} | {_wall(record)} |")
    records = [json.loads(p.read_text()) for p in (out / "stages").glob("*.json")]
    lines += ["", f"Total wall time of the recorded stages: {_duration(sum(r['wall_s'] for r in records))}."]
    lines += ["", "### Equivalent commands", "", "```", *(stage_record(out, data_stage(d))["command"] for d in rep.ablation.data
              if not rep.reuse_data), *commands, "```"]  # fmt: skip
    return lines


def write_report(rep: Reproduction) -> Path:
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU only, {os.cpu_count()} cores"
    lines = [
        f"# Reproduction: {rep.ablation.name} at scale {rep.scale.name}", "",
        rep.ablation.summary + ".", "",
        f"Command: `{rep.command()}`  ",
        f"Written {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on {platform.node()} ({device}), "
        f"torch {torch.__version__}.", "",
        f"## Success rates ({rep.episodes_eval} val episodes per column)", "",
        *results_table(rep), "",
        *setup_section(rep),
    ]  # fmt: skip
    path = rep.out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
