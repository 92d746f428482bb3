"""What `--world mshab` needs (MS-HAB's code, ManiSkill's ReplicaCAD/YCB downloads, MS-HAB's task
plans and spawn data, a policy that runs there), checked before any env is made so that a missing
piece is one line saying how to get it.

Paths and download ids follow MS-HAB's README and ManiSkill's `mani_skill.utils.assets.data`.
"""

import importlib.util
from pathlib import Path

from hab_aux.errors import UserError
from hab_aux.generate.policies import EXPERT_POLICIES, MSHAB_RL
from hab_aux.tasks import Column, seed_range

MSHAB_INSTALL = "pip install git+https://github.com/arth-shukla/mshab (its README: github.com/arth-shukla/mshab#setup-and-installation)"
DOWNLOAD = "python -m mani_skill.utils.download_asset"
# ManiSkill download id -> folder it unpacks to under ASSET_DIR, in the README's download order
# (ReplicaCAD before ReplicaCADRearrange: re-downloading ReplicaCAD deletes the rearrange folder).
ASSETS = {
    "ycb": "assets/mani_skill2_ycb",
    "ReplicaCAD": "scene_datasets/replica_cad_dataset/configs/scenes",
    "ReplicaCADRearrange": "scene_datasets/replica_cad_dataset/rearrange",
}
TASK_DIRS = {"SetTable": "set_table", "TidyHouse": "tidy_house", "PrepareGroceries": "prepare_groceries"}
# MS-HAB's task plan files per column: every object ("all"), or one articulation type.
PLAN_FILES = {None: "all", "fridge": "fridge", "drawer": "kitchen_counter"}


def asset_root() -> Path:
    from mani_skill import ASSET_DIR  # honours MS_ASSET_DIR

    return Path(ASSET_DIR)


def task_plan_path(root: Path, task: str, column: Column, split: str) -> Path:
    name = PLAN_FILES[column.articulation]
    return root / ASSETS["ReplicaCADRearrange"] / "task_plans" / TASK_DIRS[task] / column.subtask / split / f"{name}.json"


def spawn_data_path(root: Path, task: str, column: Column, split: str) -> Path:
    return root / ASSETS["ReplicaCADRearrange"] / "spawn_data" / TASK_DIRS[task] / column.subtask / split / "spawn_data.pt"


def check_mshab(task: str, columns: tuple[Column, ...], splits: tuple[str, ...]) -> Path:
    """Raise a one-line UserError naming what is missing and how to get it; return the asset root."""
    for split in splits:
        seed_range(split)
    if importlib.util.find_spec("mshab") is None:
        raise UserError(f"--world mshab needs MS-HAB's code, which is not installed: {MSHAB_INSTALL}")
    root = asset_root()
    missing = [uid for uid, folder in ASSETS.items() if not (root / folder).is_dir()]
    if missing:
        folders = ", ".join(ASSETS[uid] for uid in missing)
        commands = "; ".join(f"{DOWNLOAD} {uid}" for uid in missing)
        raise UserError(f"MS-HAB assets missing under {root} (MS_ASSET_DIR/data): {folders}; download with: {commands}")
    files = [
        path
        for column in columns
        for split in splits
        for path in (task_plan_path(root, task, column, split), spawn_data_path(root, task, column, split))
        if not path.is_file()
    ]
    if files:
        rearrange = root / ASSETS["ReplicaCADRearrange"]
        names = ", ".join(str(p.relative_to(rearrange)) for p in files)
        raise UserError(f"MS-HAB rearrange data under {rearrange} lacks {names}; re-download it: {DOWNLOAD} ReplicaCADRearrange")
    return root


def require_non_expert(policies: list[str]) -> None:
    """The scripted experts plan from the procedural world's privileged state, which MS-HAB's envs lack."""
    if set(EXPERT_POLICIES) & set(policies):
        raise UserError(f"the scripted expert only runs in the procedural world; with --world mshab use --policy {MSHAB_RL} "
                        "(MS-HAB's own RL experts), random or zero, or a --checkpoint")  # fmt: skip
