"""Where MS-HAB's RL checkpoints are and what each one holds (`--policy mshab-rl`), read without
loading any weights, so that a missing piece is one line saying how to get it.

As MS-HAB's `mshab/utils/gen/gen_data.py` reads them:
- one checkpoint per task, subtask and object: `DIR/rl/<task>/<subtask>/<object>/{config.yml, policy.pt}`,
  where DIR is `$MS_ASSET_DIR/data/mshab_checkpoints` if it exists, else `./mshab_checkpoints`
  (`--mshab-checkpoints DIR` overrides both);
- <object> is the YCB id of a pick/place target (`013_apple`) or the name of the articulation's task
  plan file (`fridge`, `kitchen_counter`): the per-object task plans each RL expert was trained on;
- `algo.name` in config.yml says PPO or SAC; SAC's network sizes are `algo` keys there, while PPO's
  network is fixed and sized by the observation alone.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from hab_aux.errors import UserError
from hab_aux.generate.envs.mshab_check import PLAN_FILES, TASK_DIRS, asset_root
from hab_aux.generate.policies import MSHAB_RL
from hab_aux.tasks import Column

CHECKPOINTS_REPO = "arth-shukla/mshab_checkpoints"  # MS-HAB's README: its RL checkpoints on HuggingFace
FILES = ("config.yml", "policy.pt")
# Per algorithm: the keyword MS-HAB's agent class takes -> its key under `algo` in config.yml.
AGENT_SIZES: dict[str, dict[str, str]] = {
    "ppo": {},
    "sac": {
        "actor_hidden_dims": "actor_hidden_dims", "critic_hidden_dims": "critic_hidden_dims",
        "critic_layer_norm": "critic_layer_norm", "critic_dropout": "critic_dropout",
        "encoder_pixels_feature_dim": "encoder_pixels_feature_dim", "encoder_state_feature_dim": "encoder_state_feature_dim",
        "cnn_features": "cnn_features", "cnn_filters": "cnn_filters", "cnn_strides": "cnn_strides",
        "cnn_padding": "cnn_padding", "log_std_min": "actor_log_std_min", "log_std_max": "actor_log_std_max",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Checkpoint:
    folder: Path
    algo: str  # a key of AGENT_SIZES
    sizes: dict  # keyword arguments of the agent class, from config.yml

    @property
    def weights(self) -> Path:
        return self.folder / "policy.pt"


def download_command(root: Path, pattern: str = "") -> str:
    include = f' --include "{pattern}"' if pattern else ""
    return f"huggingface-cli download {CHECKPOINTS_REPO}{include} --local-dir {root}"


def checkpoints_root(given: str | Path | None) -> Path:
    """The checkpoints folder (absolute): `given`, or MS-HAB's default."""
    if given is not None:
        root = Path(given).expanduser()
        if not root.is_dir():
            raise UserError(f"--mshab-checkpoints {given} is not a folder; download MS-HAB's RL checkpoints into it: "
                            f"{download_command(root)}")  # fmt: skip
        return root.resolve()
    default = asset_root() / "mshab_checkpoints"
    for root in (default, Path("mshab_checkpoints")):
        if root.is_dir():
            return root.resolve()
    raise UserError(f"--policy {MSHAB_RL} needs MS-HAB's RL checkpoints, found neither {default} nor ./mshab_checkpoints; "
                    f"download them: {download_command(default)} (or pass --mshab-checkpoints DIR)")  # fmt: skip


def ycb_id(obj_id: str) -> str:
    """MS-HAB object ids are '<YCB id>-<instance>', e.g. '013_apple-0' -> '013_apple'."""
    match = re.fullmatch(r"(\d{3}_.+)-\d+", obj_id)
    if match is None:
        raise ValueError(f"not an MS-HAB YCB object id: {obj_id!r}")
    return match.group(1)


def checkpoint_object(column: Column, target_name: str) -> str:
    """The <object> folder of an episode's checkpoint, from its column and target (EpisodeInfo.target_name)."""
    return PLAN_FILES[column.articulation] if column.articulation else ycb_id(target_name)


def find_checkpoint(root: Path, task: str, subtask: str, obj: str) -> Checkpoint:
    import yaml  # a dependency of mani_skill

    relative = f"rl/{TASK_DIRS[task]}/{subtask}/{obj}"
    folder = root / relative
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(f"no MS-HAB checkpoint for {task} {subtask} {obj}: {folder} lacks {', '.join(missing)}; "
                        f"download it: {download_command(root, relative + '/*')}")  # fmt: skip
    try:
        config = yaml.safe_load((folder / "config.yml").read_text())
    except yaml.YAMLError as err:
        raise UserError(f"{folder / 'config.yml'} is not YAML ({str(err).splitlines()[0]}); "
                        f"download it again: {download_command(root, relative + '/*')}") from err  # fmt: skip
    algo_config = config.get("algo") if isinstance(config, dict) else None
    algo = algo_config.get("name") if isinstance(algo_config, dict) else None
    if algo not in AGENT_SIZES:
        raise UserError(f"{folder / 'config.yml'} names algorithm {algo!r} (algo.name); --policy {MSHAB_RL} "
                        f"runs MS-HAB's RL checkpoints: {', '.join(AGENT_SIZES)}")  # fmt: skip
    lacking = [key for key in AGENT_SIZES[algo].values() if key not in algo_config]
    if lacking:
        raise UserError(f"{folder / 'config.yml'} lacks algo.{', algo.'.join(lacking)}, which size its {algo} network; "
                        f"download it again: {download_command(root, relative + '/*')}")  # fmt: skip
    return Checkpoint(folder, algo, {arg: algo_config[key] for arg, key in AGENT_SIZES[algo].items()})


def check_checkpoints(root: Path, task: str, columns: tuple[Column, ...]) -> None:
    """Before any env is made: each column's subtask folder, and the checkpoint of each open/close
    column (its object is known). A pick/place target is drawn at reset: its checkpoint is checked then."""
    for column in columns:
        if column.articulation:
            find_checkpoint(root, task, column.subtask, PLAN_FILES[column.articulation])
            continue
        relative = f"rl/{TASK_DIRS[task]}/{column.subtask}"
        if not (root / relative).is_dir():
            raise UserError(f"no MS-HAB checkpoints for {task} {column.subtask}: {root / relative} is missing; "
                            f"download them: {download_command(root, relative + '/*')}")  # fmt: skip
