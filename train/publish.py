"""Publish a checkpoint small enough to keep in a git repository: its weights stored in float16.

    habaux publish RUN_OR_CHECKPOINT checkpoints/NAME [--max-mb 10] [--replace]

Loading upcasts to float32 (`from_pretrained(dtype=float32)`, `load_state_dict` copies), so the
published folder loads through the same `load_pretrained` as any checkpoint; only the weights'
precision changes (float16 keeps 11 significant bits). Evaluate the published folder, not the run,
when you report its figures. The run's `train_config.json` is copied beside it (how it was trained).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from hab_aux.errors import UserError
from hab_aux.train.checkpoint import CONFIG_FILE, load_pretrained, save_pretrained
from hab_aux.train.run_dir import CONFIG, latest_checkpoint


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def publish(source: Path, out: Path, max_mb: float = 10.0, replace: bool = False) -> Path:
    """Re-save `source` (a run or a checkpoint folder) in float16 into `out`; refuse one over `max_mb`.
    With `replace`, an existing checkpoint folder at `out` is swapped for the new one only once the new
    one is complete (anything else at `out` is refused)."""
    checkpoint = latest_checkpoint(source)
    if out.exists():
        if not replace:
            raise UserError(f"{out} already exists; remove it, choose another folder or pass --replace")
        if not (out / CONFIG_FILE).is_file():
            raise UserError(f"--replace only replaces a checkpoint folder, and {out} has no {CONFIG_FILE}")
    model = load_pretrained(checkpoint)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save_pretrained(model.to(torch.float16), tmp)
    run_config = Path(source) / CONFIG
    if run_config.is_file():
        shutil.copy(run_config, tmp / CONFIG)
    size = folder_bytes(tmp) / 2**20
    if size > max_mb:
        shutil.rmtree(tmp)
        raise UserError(f"{checkpoint} is {size:.1f} MiB in float16, over --max-mb {max_mb}")
    old = out.with_name(f".{out.name}.old")  # the replaced folder, kept until the new one is in place
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return out

