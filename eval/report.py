"""Success tables in the paper's layout (rich), and the JSON report."""

import json
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from hab_aux.rollout import EpisodeResult


@dataclass(frozen=True)
class ColumnResult:
    column: str
    episodes: list[EpisodeResult]

    @property
    def successes(self) -> int:
        return sum(e.success for e in self.episodes)

    @property
    def success_rate(self) -> float:
        return self.successes / len(self.episodes) if self.episodes else 0.0

    @property
    def mean_length(self) -> float:
        return sum(e.length for e in self.episodes) / len(self.episodes) if self.episodes else 0.0

    def to_json(self) -> dict:
        return {
            "episodes": len(self.episodes),
            "successes": self.successes,
            "success_rate": self.success_rate,
            "mean_length": self.mean_length,
            "failures": [
                {"layout_seed": e.info.layout_seed, "episode_seed": e.info.episode_seed, "length": e.length,
                 "target": e.info.target_name, "reason": e.failure_reason}
                for e in self.episodes if not e.success
            ],
        }  # fmt: skip


def average(columns: list[ColumnResult]) -> float:
    return sum(c.success_rate for c in columns) / len(columns) if columns else 0.0


def success_table(task: str, rows: dict[str, list[ColumnResult]], source: str = "val layouts") -> Table:
    """One row per policy, one column per subtask column, then the average (Table 2's layout).
    `source` says which episodes these are (`EvalConfig.source`)."""
    names = [c.column for c in next(iter(rows.values()))]
    counts = sorted({len(c.episodes) for c in next(iter(rows.values()))})
    per_column = "/".join(map(str, counts))
    table = Table(title=f"{task}: success rate on {source} (episodes per column: {per_column})")
    table.add_column("policy")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("Avg", justify="right", style="bold")
    for policy, columns in rows.items():
        table.add_row(policy, *[f"{c.success_rate:.2f}" for c in columns], f"{average(columns):.2f}")
    return table


def write_json(path: Path, task: str, split: str, rows: dict[str, list[ColumnResult]], source: str | None = None) -> None:
    """`source`: which episodes these are (`EvalConfig.source`), when not the split's layouts; then the
    report names no split (recorded episodes are whatever split their dataset was generated from)."""
    report = {
        "task": task,
        "split": None if source else split,
        "episodes": source or f"{split} layouts",
        "policies": {
            policy: {"columns": {c.column: c.to_json() for c in columns}, "average": average(columns)}
            for policy, columns in rows.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
