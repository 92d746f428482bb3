"""The statistics LeRobot keeps per episode (meta/episodes) and per dataset (meta/stats.json).

For each feature: min, max, mean, std, count (frames) and the quantiles q01, q10, q50, q90, q99
that LeRobot's normalisers read (lerobot.datasets.compute_stats). Shapes follow LeRobot: (D,) per
dimension of a vector, (1,) for a scalar, (3, 1, 1) per channel of a video with values in [0, 1].
LeRobot leaves 2-D features undefined; a 2-D label (mask, segmentation) gets (1,) over all pixels.
Quantiles of integer data (video pixels, masks, instance ids) are exact, from counts; the dataset's
are the count-weighted mean of the episodes' quantiles, as LeRobot aggregates them.
"""

import numpy as np

from hab_aux.export.features import Feature

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QUANTILE_KEYS = tuple(f"q{round(q * 100):02d}" for q in QUANTILES)


def _columns(feature: Feature, values: np.ndarray) -> np.ndarray:
    """The values as (N, D): one column per statistic entry."""
    if feature.is_video:
        return values.reshape(-1, values.shape[-1])
    return values.reshape(len(values), -1) if len(feature.shape) == 1 else values.reshape(-1, 1)


def _column_stats(column: np.ndarray) -> list[float]:
    """min, max, mean, std and QUANTILES (np.quantile's linear interpolation) of one column; integer
    data (video pixels, masks, instance ids) goes through its value counts: O(N), no sort, no copy."""
    if column.dtype.kind not in "biu":
        c = column.astype(np.float64)
        return [c.min(), c.max(), c.mean(), c.std(), *np.quantile(c, QUANTILES)]
    low = int(column.min())
    counts = np.bincount(column.astype(np.int64) - low)
    values = np.arange(low, low + len(counts), dtype=np.float64)
    mean = float((values * counts).sum() / len(column))
    std = float(np.sqrt(((values - mean) ** 2 * counts).sum() / len(column)))
    ends = np.cumsum(counts)  # the sorted position after the last copy of each value
    position = np.asarray(QUANTILES) * (len(column) - 1)
    below, above = np.floor(position).astype(np.int64), np.ceil(position).astype(np.int64)
    at_below, at_above = (values[np.searchsorted(ends, i, side="right")] for i in (below, above))
    quantiles = at_below + (at_above - at_below) * (position - below)
    return [values[0], values[-1], mean, std, *quantiles]


def feature_stats(feature: Feature, values: np.ndarray) -> dict[str, np.ndarray]:
    """One episode's statistics of one feature; `values` as Feature.values returns them."""
    table = np.array([_column_stats(c) for c in _columns(feature, values).T], dtype=np.float64).T
    stats = dict(zip(("min", "max", "mean", "std", *QUANTILE_KEYS), table))
    if feature.is_video:
        stats = {k: (v / 255.0).reshape(-1, 1, 1) for k, v in stats.items()}
    stats["count"] = np.array([len(values)])
    return stats


def aggregate(per_episode: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Dataset statistics of one feature from its episodes' (count-weighted, parallel variance)."""
    counts = np.array([s["count"][0] for s in per_episode], dtype=np.float64)
    total = counts.sum()
    weight = counts.reshape(-1, *([1] * per_episode[0]["mean"].ndim)) / total
    means = np.stack([s["mean"] for s in per_episode])
    mean = (means * weight).sum(axis=0)
    variance = ((np.stack([s["std"] for s in per_episode]) ** 2 + (means - mean) ** 2) * weight).sum(axis=0)
    out = {
        "min": np.min([s["min"] for s in per_episode], axis=0),
        "max": np.max([s["max"] for s in per_episode], axis=0),
        "mean": mean,
        "std": np.sqrt(variance),
        "count": np.array([int(total)]),
    }
    out.update({k: (np.stack([s[k] for s in per_episode]) * weight).sum(axis=0) for k in QUANTILE_KEYS})
    return out
