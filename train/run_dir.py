"""A training run's folder: its identity, full training state for --resume, inference checkpoints.

    RUN/
      train_config.json      what defines the run; --resume refuses a different one
      state.pt               model + optimizer + step + RNG (the data position is the step)
      checkpoints/step-N/    save_pretrained: weights, config, norm stats, tokenizer (inference only)
      checkpoints/latest     name of the newest checkpoint folder (older ones pruned: --keep-last, --keep-every)
      metrics.jsonl, tb/     losses per step
"""

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from hab_aux.errors import UserError
from hab_aux.train.checkpoint import save_pretrained

CONFIG = "train_config.json"
STATE = "state.pt"


def check_run(run: Path, identity: dict, resume: bool, defaults: dict | None = None) -> None:
    """A new run needs a fresh folder; a resumed one the same identity. A key the saved identity
    lacks (a setting added after the run was saved) counts as its value in `defaults`, which is
    what the run trained with."""
    saved = run / CONFIG
    if not resume:
        if saved.exists():
            raise UserError(f"--out {run} already holds a run; pass --resume to continue it, or choose another --out")
        return
    if not (run / STATE).exists():
        raise UserError(f"--resume: {run} holds no training state ({STATE}); start it without --resume")
    old = {**(defaults or {}), **json.loads(saved.read_text())}
    diff = sorted(k for k in old.keys() | identity.keys() if old.get(k) != identity.get(k))
    if diff:
        first = diff[0]
        raise UserError(f"--resume with a different config: {first} was {old.get(first)!r}, now {identity.get(first)!r}"
                        + (f" (and {', '.join(diff[1:])})" if diff[1:] else ""))  # fmt: skip


def write_identity(run: Path, identity: dict) -> None:
    run.mkdir(parents=True, exist_ok=True)
    (run / CONFIG).write_text(json.dumps(identity, indent=2))


def save_state(run: Path, model_state: dict, optimizer_state: dict, step: int, ema_state: dict | None = None) -> None:
    state = {
        "step": step,
        "model": model_state,
        "optimizer": optimizer_state,
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
    }
    if ema_state is not None:
        state["ema"] = ema_state
    if torch.cuda.is_available():
        state["rng"]["cuda"] = torch.cuda.get_rng_state_all()
    tmp = run / f".{STATE}.tmp"
    try:
        torch.save(state, tmp)
        os.replace(tmp, run / STATE)  # a crash mid-save keeps the previous state
    finally:
        tmp.unlink(missing_ok=True)


def load_state(run: Path) -> dict:
    """Restore the RNGs; return the saved state ("step", "model", "optimizer", and "ema" when the run
    keeps one), memory-mapped from the file."""
    state = torch.load(run / STATE, map_location="cpu", weights_only=False, mmap=True)
    torch.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])
    random.setstate(state["rng"]["python"])
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    return state


def save_checkpoint(run: Path, model, step: int, state: dict | None = None) -> Path:
    """An inference checkpoint; `state`: the full model state dict when `model` is sharded."""
    folder = run / "checkpoints" / f"step-{step:07d}"
    try:
        save_pretrained(model, folder, state)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a partial folder is no checkpoint; `latest` still names the last
        raise
    write_text_atomic(run / "checkpoints" / "latest", folder.name)
    return folder


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def prune_checkpoints(run: Path, keep_last: int, keep_every: int | None = None) -> list[Path]:
    """Delete checkpoint folders beyond the newest `keep_last`, except every `keep_every`-th step's
    and the one `latest` names; call it only after the new checkpoint is complete. `--resume`
    reads state.pt, which is never pruned. Returns the folders deleted."""
    folders = sorted((run / "checkpoints").glob("step-*"))
    pointer = run / "checkpoints" / "latest"
    latest = pointer.read_text().strip() if pointer.exists() else None
    keep = {f.name for f in folders[-keep_last:]} | {latest}
    if keep_every:
        keep |= {f.name for f in folders if int(f.name.split("-")[1]) % keep_every == 0}
    doomed = [f for f in folders if f.name not in keep]
    for folder in doomed:
        shutil.rmtree(folder)
    return doomed


def latest_checkpoint(run: Path) -> Path:
    """RUN, RUN/checkpoints/step-N or a save_pretrained folder -> the checkpoint folder to load."""
    run = Path(run)
    pointer = run / "checkpoints" / "latest"
    if pointer.exists():
        return run / "checkpoints" / pointer.read_text().strip()
    if (run / "config.json").exists():
        return run
    raise UserError(f"{run} is neither a training run with checkpoints nor a checkpoint folder (config.json)")
