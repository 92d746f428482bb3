"""What the reproduction tests share: a micro scale and tiny synthetic datasets."""

from pathlib import Path

from hab_aux.reproduction.ablations import ABLATIONS, Scale
from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode

MICRO = Scale("micro", "tiny", episodes_per_column=1, steps_per_epoch=1, batch_size=2, loader_workers=0,
              save_every=1000, eval_max_steps=2, cost="test only")  # fmt: skip
MAIN = ABLATIONS["main"]


def dataset(path: Path, task: str, subtasks: tuple[str, ...]) -> Path:
    with ShardWriter(path, 0, task=task) as writer:
        for i, sub in enumerate(subtasks):
            category = "drawer" if sub in ("open", "close") else "bowl"
            writer.add_episode(*synthetic_episode(i + 1, steps=8, task=task, subtask=sub, category=category))
    build_manifest(path)
    return path
