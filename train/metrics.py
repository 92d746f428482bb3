"""Per-step metrics to JSONL (for `habaux plot` and scripts) and TensorBoard."""

import json
from pathlib import Path

METRICS = "metrics.jsonl"


class MetricsLog:
    def __init__(self, run: Path, enabled: bool = True):
        self.enabled = enabled
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self._jsonl = open(run / METRICS, "a")
        self._tb = SummaryWriter(str(run / "tb"))

    def log(self, step: int, record: dict) -> None:
        if not self.enabled:
            return
        self._jsonl.write(json.dumps({"step": step, **record}) + "\n")
        self._jsonl.flush()
        for key, value in record.items():
            if isinstance(value, (int, float)):
                self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        if self.enabled:
            self._jsonl.close()
            self._tb.close()


def read_metrics(run: Path) -> list[dict]:
    """The logged records, the last one of each step (a resumed run re-logs the steps after its state)."""
    path = Path(run) / METRICS
    if not path.exists():
        from hab_aux.errors import UserError

        raise UserError(f"{run} has no {METRICS}: is it a training run folder?")
    by_step = {}
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            by_step[record["step"]] = record
    return [by_step[s] for s in sorted(by_step)]


def samples_per_step(run: Path) -> int:
    """Samples one optimizer step of the run trains on: batch x gradient accumulation x ranks."""
    config = json.loads((Path(run) / "train_config.json").read_text())
    return config["batch_size"] * config.get("grad_accum", 1) * config.get("world_size", 1)


def training_samples(run: Path, records: list[dict]) -> list[int]:
    """Samples trained on by each record: compares runs whose batches or rank counts differ."""
    per_step = samples_per_step(run)
    return [r["step"] * per_step for r in records]


def training_minutes(run: Path, records: list[dict]) -> list[float]:
    """Cumulative training time at each record, in minutes: the sum of step times (samples per step /
    samples_per_s), so model building, checkpoint saves and pauses between a stop and a resume are left
    out. Runs compare fairly on it only when they ran under the same load."""
    per_step = samples_per_step(run)
    total, out = 0.0, []
    for r in records:
        total += per_step / r["samples_per_s"] / 60.0
        out.append(total)
    return out
