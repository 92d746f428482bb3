"""Action (and proprio) normalisation stats and OpenVLA/MiniVLA-style discrete action tokens.

Normalise each dim with dataset quantiles, `2 * (x - q01) / (q99 - q01 + 1e-8) - 1`, clip to
[-1, 1]; dims whose q01 == q99 normalise to 0 (and decode back to their constant value).
`n_bins` uniform bins over [-1, 1]; decode to bin centres. Bins map onto `n_bins` NEW vocabulary
tokens named by `ActionConfig`-style format strings, looked up by name (never by magic id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar
from pathlib import Path

import numpy as np

from hab_aux.errors import UserError
from hab_aux.schema import ACTION_DIM, QPOS_NO_BASE

NORM_STATS_FILE = "norm_stats.json"
PROPRIO_STATS_FILE = "proprio_stats.json"


@dataclass(frozen=True)
class QuantileStats:
    """Per-dim 1st/99th percentiles of training data; travels with every checkpoint. Subclasses
    fix the dimension and the file name."""

    DIM: ClassVar[int]
    FILE: ClassVar[str]
    q01: np.ndarray  # (DIM,) float32
    q99: np.ndarray  # (DIM,) float32

    def __post_init__(self):
        for name in ("q01", "q99"):
            a = np.asarray(getattr(self, name), dtype=np.float32)
            if a.shape != (self.DIM,) or not np.all(np.isfinite(a)):
                raise ValueError(f"{type(self).__name__}.{name} must be {self.DIM} finite numbers, got shape {a.shape}")
            object.__setattr__(self, name, a)
        if np.any(self.q99 < self.q01):
            raise ValueError(f"{type(self).__name__}: q99 < q01 in some dim")

    @classmethod
    def from_data(cls, values: np.ndarray):
        a = np.asarray(values, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != cls.DIM or len(a) == 0:
            raise ValueError(f"{cls.__name__}.from_data needs an (N, {cls.DIM}) array, got {a.shape}")
        return cls(np.quantile(a, 0.01, axis=0), np.quantile(a, 0.99, axis=0))

    @property
    def constant(self) -> np.ndarray:
        return self.q01 == self.q99

    def normalize(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        y = 2.0 * (x - self.q01) / (self.q99 - self.q01 + 1e-8) - 1.0
        return np.where(self.constant, 0.0, np.clip(y, -1.0, 1.0)).astype(np.float32)

    def unnormalize(self, y: np.ndarray) -> np.ndarray:
        y = np.clip(np.asarray(y, dtype=np.float32), -1.0, 1.0)
        return (0.5 * (y + 1.0) * (self.q99 - self.q01) + self.q01).astype(np.float32)

    def to_dict(self) -> dict:
        return {"q01": self.q01.tolist(), "q99": self.q99.tolist()}

    @classmethod
    def from_dict(cls, d: dict):
        return cls(np.asarray(d["q01"]), np.asarray(d["q99"]))

    def save(self, folder: str | Path) -> None:
        (Path(folder) / self.FILE).write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, folder: str | Path):
        path = Path(folder) / cls.FILE
        if not path.is_file():
            raise UserError(f"{path} is missing: a checkpoint must carry its {cls.__name__} "
                            f"({cls.__name__}.from_data(values).save(folder))")  # fmt: skip
        return cls.from_dict(json.loads(path.read_text()))


class ActionStats(QuantileStats):
    """Quantiles of the training actions (13-D)."""

    DIM, FILE = ACTION_DIM, NORM_STATS_FILE


class ProprioStats(QuantileStats):
    """Quantiles of the proprioceptive input: qpos without the base joints (`schema.QPOS_NO_BASE`)."""

    DIM, FILE = len(QPOS_NO_BASE), PROPRIO_STATS_FILE


class ActionBins:
    """Uniform bins over [-1, 1] for normalised actions."""

    def __init__(self, n_bins: int = 256):
        self.n_bins = n_bins
        self.centres = (np.arange(n_bins, dtype=np.float64) + 0.5) * (2.0 / n_bins) - 1.0

    @property
    def half_width(self) -> float:
        return 1.0 / self.n_bins

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Normalised actions in [-1, 1] -> bin indices in [0, n_bins)."""
        y = np.clip(np.asarray(y, dtype=np.float64), -1.0, 1.0)
        return np.clip(np.floor((y + 1.0) * 0.5 * self.n_bins), 0, self.n_bins - 1).astype(np.int64)

    def decode(self, idx: np.ndarray) -> np.ndarray:
        return self.centres[np.clip(np.asarray(idx), 0, self.n_bins - 1)].astype(np.float32)


def action_token_names(fmt: str, n_bins: int) -> list[str]:
    return [fmt.format(i) for i in range(n_bins)]
