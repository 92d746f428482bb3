"""Loss curves of one or more runs as a PNG: one panel per loss, runs overlaid, stage changes marked;
against optimizer steps, training samples (runs with other batch sizes or rank counts), or training
minutes (models whose steps cost differently).

Per-step losses of small batches are noisy: `smooth` > 1 draws the mean of each window of that many
logged steps (the raw curve is drawn faintly beneath)."""

from pathlib import Path

import numpy as np

from hab_aux.train.metrics import read_metrics, training_minutes, training_samples

# Each horizontal axis: its label, and what one unit of it is in the title.
AXES = {
    "step": ("step", "optimizer step"),
    "samples": ("training samples", "training sample"),
    "minutes": ("training minutes", "training minute"),
}


def _windowed(values: list[float], smooth: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if smooth <= 1 or len(v) < smooth:
        return v
    return np.convolve(v, np.ones(smooth) / smooth, mode="valid")


def axis_values(run: Path, records: list[dict], axis: str) -> list[float]:
    if axis == "samples":
        return training_samples(run, records)
    return [r["step"] for r in records] if axis == "step" else training_minutes(run, records)


def losses_at(records: list[dict], xs: list[float], at: float, window: int) -> dict[str, float] | None:
    """Each loss's mean over the last `window` logged steps up to `at` on the axis `xs` (one value per record:
    `axis_values`); None where the run did not get that far."""
    reached = [r for r, x in zip(records, xs) if x <= at + 1e-9]  # summed floats overshoot
    if not reached or xs[-1] < at - 1e-9:
        return None
    last = reached[-window:]
    keys = [k for k in last[-1] if k.startswith("loss/")]
    return {k.removeprefix("loss/"): float(np.mean([r[k] for r in last if k in r])) for k in keys} | {"step": last[-1]["step"]}


def plot_runs(runs: list[Path], out: Path, smooth: int = 1, axis: str = "step") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    logs = {Path(run).name: read_metrics(run) for run in runs}
    xs = {Path(run).name: axis_values(run, logs[Path(run).name], axis) for run in runs}
    keys = sorted({k for records in logs.values() for r in records for k in r if k.startswith("loss/")},
                  key=lambda k: (k != "loss/total", k))  # fmt: skip
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    first, first_x = next(iter(logs.values())), next(iter(xs.values()))
    changes = [(x, r["stage"]) for i, (r, x) in enumerate(zip(first, first_x)) if i == 0 or r["stage"] != first[i - 1]["stage"]]
    for ax, key in zip(axes.flat, keys):
        smoothed = []
        for (name, records), color in zip(logs.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
            points = [(x, r[key]) for r, x in zip(records, xs[name]) if key in r]
            if not points:
                continue
            steps, values = [p[0] for p in points], [p[1] for p in points]
            if smooth > 1:
                ax.plot(steps, values, lw=0.5, color=color, alpha=0.25)
            mean = _windowed(values, smooth)
            ax.plot(steps[len(steps) - len(mean) :], mean, lw=1, color=color, label=name)
            smoothed.append(mean)
        if smooth > 1 and smoothed:  # the smoothed curves set the scale; raw spikes are clipped
            low, high = min(float(m.min()) for m in smoothed), max(float(m.max()) for m in smoothed)
            ax.set_ylim(min(0.0, low), 1.1 * high)
        for step, stage in changes:
            ax.axvline(step, color="grey", ls=":", lw=0.8)
            ax.text(step, 1.0, f" {stage}", transform=ax.get_xaxis_transform(), fontsize=7, va="top", color="grey")
        ax.set_title(key.removeprefix("loss/"), fontsize=9)
        ax.set_xlabel(AXES[axis][0], fontsize=8)
        if axis == "samples":  # hundreds of thousands: in thousands, or the tick labels run together
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
        if len(logs) > 1 and key == keys[0]:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    title = ", ".join(logs) if len(logs) > 1 else f"{next(iter(logs))}"
    fig.suptitle(f"{title}: losses per {AXES[axis][1]}" + (f" (mean of {smooth})" if smooth > 1 else ""), fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
