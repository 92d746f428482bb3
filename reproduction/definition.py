"""What a reproduction is: an ablation at a scale in a folder, its identity and where each result goes.

    OUT/
      reproduce.json          what defines the reproduction; a rerun must match it
      data/<task>/            generated datasets (unless --reuse-data)
      runs/<recipe>/          training runs (habaux train's layout)
      evals/<row>/<task>-<N>ep.json   habaux eval's JSON, one per row and task
      stages/<stage>.json     one per finished stage: its wall time (and equivalent command)
      report.md               ours beside the paper's, with the setup (report.py)
"""

import json
import shlex
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

from hab_aux.errors import UserError
from hab_aux.reproduction.ablations import Ablation, DataSpec, Row, Scale
from hab_aux.store import open_dataset
from hab_aux.store.layout import write_json_atomic
from hab_aux.tasks import SUBTASKS

IDENTITY = "reproduce.json"


@dataclass(frozen=True)
class Reproduction:
    ablation: Ablation
    scale: Scale
    out: Path
    episodes_eval: int = 30  # val episodes per column and row, the paper's
    reuse_data: tuple[Path, ...] = ()  # datasets (one or more per task of the ablation), instead of generating
    workers: int = 1  # generation worker processes

    def __post_init__(self):
        if self.episodes_eval < 1:
            raise UserError(f"--episodes-eval must be at least 1, got {self.episodes_eval}")

    def command(self) -> str:
        args = ["habaux", "reproduce", self.ablation.name, "--scale", self.scale.name, "--out", str(self.out),
                "--episodes-eval", str(self.episodes_eval)]  # fmt: skip
        if self.reuse_data:
            args += ["--reuse-data", ",".join(str(p) for p in self.reuse_data)]
        if self.workers != 1:
            args += ["--workers", str(self.workers)]
        return shlex.join(args)

    def identity(self) -> dict:
        """What the stages' results depend on, as JSON reads it back (the eval episodes count names its files)."""
        ablation = {k: v for k, v in asdict(self.ablation).items() if k != "summary"}
        return json.loads(json.dumps({"ablation": ablation, "scale": self.scale.identity(),
                                      "reuse_data": [str(p.resolve()) for p in self.reuse_data]}))  # fmt: skip

    @cached_property
    def datasets(self) -> dict[DataSpec, tuple[Path, ...]]:
        """The dataset folders of each data spec: reused (matched by task; a task may have several,
        e.g. one generated per column) or OUT/data/<task>."""
        if not self.reuse_data:
            return {d: (self.out / "data" / d.task,) for d in self.ablation.data}
        wanted = [d.task for d in self.ablation.data]
        found: dict[str, list[Path]] = {}
        for path in self.reuse_data:
            manifest = path / "manifest.json"
            if not manifest.exists():
                raise UserError(f"--reuse-data {path} is not a hab-aux dataset (no manifest.json)")
            tasks = json.loads(manifest.read_text())["tasks"]
            if len(tasks) != 1 or tasks[0] not in wanted:
                raise UserError(f"--reuse-data needs datasets of one task each, of {self.ablation.name}'s tasks "
                                f"({', '.join(wanted)}); {path} holds {', '.join(tasks) or 'no task'}")  # fmt: skip
            found.setdefault(tasks[0], []).append(path)
        if missing := [t for t in wanted if t not in found]:
            raise UserError(f"--reuse-data lacks a dataset of {', '.join(missing)} (ablation {self.ablation.name})")
        for data in self.ablation.data:
            for path in found[data.task]:
                extra = sorted(set(open_dataset(path).meta_column("subtask").tolist()) - set(data.subtasks or SUBTASKS))
                if extra:
                    raise UserError(f"--reuse-data {path} holds {', '.join(extra)} episodes; ablation "
                                    f"{self.ablation.name} trains on {', '.join(data.subtasks)} of {data.task} only")  # fmt: skip
        return {d: tuple(found[d.task]) for d in self.ablation.data}

    def run_dir(self, recipe: str) -> Path:
        return self.out / "runs" / recipe

    def eval_json(self, row: Row, task: str) -> Path:
        return self.out / "evals" / row.slug / f"{task}-{self.episodes_eval}ep.json"


def check_out(rep: Reproduction) -> None:
    """A new reproduction needs an empty or new folder; a rerun the same identity."""
    path = rep.out / IDENTITY
    identity = rep.identity()
    if path.exists():
        old = json.loads(path.read_text())
        if old != identity:
            raise UserError(f"--out {rep.out} holds a reproduction with other options ({old['ablation']['name']}, scale "
                            f"{old['scale']['name']}); rerun it with the same options or choose another --out")  # fmt: skip
    elif rep.out.exists() and any(rep.out.iterdir()):
        raise UserError(f"--out {rep.out} is not empty and holds no reproduction; choose an empty or new folder")
    rep.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, identity)
