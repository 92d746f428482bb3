"""Tiny SG-VLA helpers: random schema-shaped samples, action stats and a tiny model built offline."""

import dataclasses

import numpy as np
import torch

from hab_aux.schema import QPOS_NO_BASE
from hab_aux.train.model.action_tokenizer import ActionStats, ProprioStats
from hab_aux.train.model.build import build_model
from hab_aux.train.presets import get_preset

INSTRUCTIONS = ("pick up the bowl", "open the fridge door", "place the apple on the table", "close the drawer")


def make_sample(rng: np.random.Generator, i: int = 0, history: int = 0) -> dict:
    def stack(a_fn):
        return np.stack([a_fn() for _ in range(history + 1)]) if history else a_fn()

    qpos = rng.uniform(-1, 1, 15).astype(np.float32)
    return {
        "head_rgb": stack(lambda: rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)),
        "hand_rgb": stack(lambda: rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)),
        "head_depth": stack(lambda: rng.integers(0, 5000, (128, 128, 1), dtype=np.uint16)),
        "hand_depth": stack(lambda: rng.integers(0, 5000, (128, 128, 1), dtype=np.uint16)),
        "head_mask": rng.random((128, 128)) > 0.7,
        "qpos": qpos,
        "proprio": qpos[list(QPOS_NO_BASE)],
        "base_pose": rng.uniform(-1, 1, 3).astype(np.float32),
        "is_grasped": bool(i % 2),
        "target_pose": np.concatenate([rng.uniform(-1, 1, 3), [1, 0, 0, 0]]).astype(np.float32),
        "action": rng.uniform(-0.9, 0.9, 13).astype(np.float32),
        "instruction": INSTRUCTIONS[i % len(INSTRUCTIONS)],
    }


def make_stats(seed: int = 0) -> ActionStats:
    data = np.random.default_rng(seed).uniform(-1, 1, (500, 13)).astype(np.float32)
    data[:, 8:10] = 0.0  # head joints never move: constant dims
    return ActionStats.from_data(data)


def make_proprio_stats(seed: int = 0) -> ProprioStats:
    return ProprioStats.from_data(np.random.default_rng(seed).uniform(-1, 1, (500, len(QPOS_NO_BASE))))


def build_tiny(seed: int = 0, proprio: bool = False, **overrides):
    """The tiny preset; `proprio` turns the state input on (with stats)."""
    torch.manual_seed(seed)
    cfg = get_preset("tiny")
    if proprio:
        cfg = cfg.replace(inputs=dataclasses.replace(cfg.inputs, proprio=True))
    if overrides:
        cfg = cfg.replace(**overrides)
    return build_model(cfg, make_stats(), make_proprio_stats() if cfg.inputs.proprio else None)
