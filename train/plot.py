"""Loss curves of a run as a PNG: one panel per loss, stage changes marked."""

from pathlib import Path

from hab_aux.train.metrics import read_metrics


def plot_run(run: Path, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(run)
    keys = sorted({k for r in records for k in r if k.startswith("loss/")}, key=lambda k: (k != "loss/total", k))
    steps = [r["step"] for r in records]
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    changes = [(r["step"], r["stage"]) for i, r in enumerate(records) if i == 0 or r["stage"] != records[i - 1]["stage"]]
    for ax, key in zip(axes.flat, keys):
        points = [(r["step"], r[key]) for r in records if key in r]
        ax.plot([p[0] for p in points], [p[1] for p in points], lw=1)
        for step, stage in changes:
            ax.axvline(step, color="grey", ls=":", lw=0.8)
            ax.text(step, 1.0, f" {stage}", transform=ax.get_xaxis_transform(), fontsize=7, va="top", color="grey")
        ax.set_title(key.removeprefix("loss/"), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_xlim(steps[0], steps[-1])
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.suptitle(f"{Path(run).name}: losses per optimizer step", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
