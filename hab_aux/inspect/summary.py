"""Counts and label statistics of a dataset, computed by streaming every shard once."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from hab_aux import schema
from hab_aux.store import Dataset
from hab_aux.store.codecs import SHARD_STEPS


@dataclass
class Summary:
    num_episodes: int
    num_steps: int
    bytes_on_disk: int
    # (task, subtask, target_category) -> [episodes, steps]
    groups: dict[tuple[str, str, str], list[int]]
    splits: Counter
    successes: int
    failure_reasons: Counter
    mask_pixel_fraction: dict[str, float] = field(default_factory=dict)  # camera -> mean fraction of pixels
    mask_step_fraction: dict[str, float] = field(default_factory=dict)  # camera -> fraction of steps with a mask
    grasp_ratio: float = 0.0
    qpos_min: np.ndarray | None = None
    qpos_max: np.ndarray | None = None

    @property
    def bytes_per_step(self) -> float:
        return self.bytes_on_disk / max(self.num_steps, 1)


def _disk_bytes(paths: list[Path]) -> int:
    return sum(f.stat().st_size for p in paths for f in p.rglob("*") if f.is_file())


def summarize(ds: Dataset) -> Summary:
    groups: dict[tuple[str, str, str], list[int]] = {}
    for m in ds.meta:
        g = groups.setdefault((m["task"], m["subtask"], m["target_category"]), [0, 0])
        g[0], g[1] = g[0] + 1, g[1] + m["length"]
    s = Summary(
        num_episodes=ds.num_episodes,
        num_steps=ds.num_steps,
        bytes_on_disk=_disk_bytes([sh.path for sh in ds.shards]),
        groups=dict(sorted(groups.items())),
        splits=Counter(m["split"] for m in ds.meta),
        successes=sum(m["success"] for m in ds.meta),
        failure_reasons=Counter(m["failure_reason"] for m in ds.meta if not m["success"]),
    )
    pixels = {c: 0.0 for c in schema.CAMERAS}
    nonempty = {c: 0 for c in schema.CAMERAS}
    grasped = 0
    qmin, qmax = np.full(schema.QPOS_DIM, np.inf, np.float32), np.full(schema.QPOS_DIM, -np.inf, np.float32)
    for shard in ds.shards:
        for start in range(0, shard.num_steps, SHARD_STEPS):
            end = min(start + SHARD_STEPS, shard.num_steps)
            for cam in schema.CAMERAS:
                mask = shard.array(f"{cam}_mask")[start:end]
                pixels[cam] += float(mask.mean(axis=(1, 2)).sum())
                nonempty[cam] += int(mask.any(axis=(1, 2)).sum())
            grasped += int(shard.array("is_grasped")[start:end].sum())
            qpos = shard.array("qpos")[start:end]
            qmin, qmax = np.minimum(qmin, qpos.min(0)), np.maximum(qmax, qpos.max(0))
    n = max(ds.num_steps, 1)
    s.mask_pixel_fraction = {c: pixels[c] / n for c in schema.CAMERAS}
    s.mask_step_fraction = {c: nonempty[c] / n for c in schema.CAMERAS}
    s.grasp_ratio = grasped / n
    if ds.num_steps:
        s.qpos_min, s.qpos_max = qmin, qmax
    return s


def print_summary(s: Summary, title: str, console: Console) -> None:
    counts = Table(title=f"{title}: {s.num_episodes} episodes, {s.num_steps} transitions")
    for col in ("task", "subtask", "target", "episodes", "transitions"):
        counts.add_column(col, justify="right" if col in ("episodes", "transitions") else "left")
    for (task, subtask, cat), (eps, steps) in s.groups.items():
        counts.add_row(task, subtask, cat, str(eps), str(steps))
    console.print(counts)

    labels = Table(title="storage and labels", show_header=False)
    labels.add_row("bytes per transition (on disk)", f"{s.bytes_per_step:,.0f} ({s.bytes_on_disk / 1e6:,.1f} MB total)")
    labels.add_row("splits", ", ".join(f"{k} {v}" for k, v in sorted(s.splits.items())))
    labels.add_row("success / failure", f"{s.successes} / {s.num_episodes - s.successes}")
    for reason, n in s.failure_reasons.most_common():
        labels.add_row(f"  failure: {reason or '(no reason)'}", str(n))
    for cam in schema.CAMERAS:
        labels.add_row(
            f"{cam} target mask",
            f"{s.mask_pixel_fraction[cam]:.2%} of pixels, non-empty in {s.mask_step_fraction[cam]:.1%} of steps",
        )
    labels.add_row("grasp ratio (is_grasped steps)", f"{s.grasp_ratio:.1%}")
    console.print(labels)

    if s.qpos_min is not None:
        qpos = Table(title="qpos range")
        for col in ("joint", "min", "max"):
            qpos.add_column(col, justify="left" if col == "joint" else "right")
        for name, lo, hi in zip(schema.QPOS_NAMES, s.qpos_min, s.qpos_max):
            qpos.add_row(name, f"{lo:.3f}", f"{hi:.3f}")
        console.print(qpos)
