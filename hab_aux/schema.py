"""The one definition of every dataset key, its dtype, shape and meaning.

generate writes these keys, the trainer and `habaux inspect` read them. A store is one zarr
group: a flat array per step key (leading axis = global step index), a flat array per episode key
(leading axis = episode index) and `episode_ends` (exclusive end step of each episode), so an
episode is the slice `[ends[i-1], ends[i])` of every step array.

Conventions (mshab.md): images are 128x128; depth is millimetres; qpos is Fetch's 15-D order;
poses are xyz + wxyz quaternion; "relative to the base" means `base_link.pose.inv() * pose`.
"""

from dataclasses import dataclass

import numpy as np

# 2: settled endings (`after_success`, `success_step`) and recovery data (`action_noise`).
# 3: the same keys; depth goes through a delta filter before zstd (store/codecs.py), 0.71x the bytes.
SCHEMA_VERSION = 3
READABLE_SCHEMA_VERSIONS = (2, 3)  # what the reader opens: the keys are the same, only codecs differ


def readable(version) -> bool:
    """Whether this code reads a store of `version`: one number (a shard), or a manifest's list of
    its shards' versions."""
    return set(version if isinstance(version, list) else [version]) <= set(READABLE_SCHEMA_VERSIONS)


IMAGE_SIZE = 128
CAMERAS = ("head", "hand")  # fetch_head, fetch_hand
ACTION_DIM = 13
QPOS_DIM = 15
EPISODE_ENDS = "episode_ends"

QPOS_NAMES = (
    "root_x", "root_y", "root_z_rotation", "torso_lift", "head_pan", "shoulder_pan", "head_tilt",
    "shoulder_lift", "upperarm_roll", "elbow_flex", "forearm_roll", "wrist_flex", "wrist_roll",
    "r_gripper", "l_gripper",
)  # fmt: skip
ACTION_NAMES = (
    "shoulder_pan", "shoulder_lift", "upperarm_roll", "elbow_flex", "forearm_roll", "wrist_flex",
    "wrist_roll", "gripper", "head_pan", "head_tilt", "torso_lift", "base_forward", "base_yaw",
)  # fmt: skip
# The paper's 12-D joint-pose label: qpos without the three base joints.
QPOS_NO_BASE = tuple(range(3, QPOS_DIM))


@dataclass(frozen=True)
class Field:
    key: str
    dtype: str  # numpy dtype name, or "str" for UTF-8 text
    shape: tuple[int, ...]  # per item, without the leading step/episode axis
    role: str  # "obs" (a policy may read it), "label" (auxiliary target), "action", "meta"
    doc: str

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(object) if self.dtype == "str" else np.dtype(self.dtype)


def _camera_fields(cam: str) -> tuple[Field, ...]:
    s = IMAGE_SIZE
    return (
        Field(f"{cam}_rgb", "uint8", (s, s, 3), "obs", f"fetch_{cam} RGB"),
        Field(f"{cam}_depth", "uint16", (s, s, 1), "obs", f"fetch_{cam} depth in millimetres (0 = no hit)"),
        Field(f"{cam}_seg", "int16", (s, s), "label", f"fetch_{cam} instance ids (per_scene_id of actors and links)"),
        Field(f"{cam}_mask", "bool", (s, s), "label", f"fetch_{cam} binary mask of the target (object, or handle link)"),
    )


STEP_FIELDS: tuple[Field, ...] = (
    *_camera_fields("head"),
    *_camera_fields("hand"),
    Field("qpos", "float32", (QPOS_DIM,), "obs", "robot joint positions, order QPOS_NAMES"),
    Field("base_pose", "float32", (3,), "label", "base_link (x, y, yaw) in the world frame"),
    Field("is_grasped", "bool", (), "label", "agent.is_grasping(target) (handle link for open/close)"),
    Field("target_pose", "float32", (7,), "label", "target pose relative to the base: xyz + wxyz"),
    Field("tcp_pose", "float32", (7,), "label", "TCP pose relative to the base: xyz + wxyz"),
    Field("action", "float32", (ACTION_DIM,), "action", "pd_joint_delta_pos action in [-1, 1], order ACTION_NAMES "
          "(the policy's clean action; with action_noise the executed one differs)"),
    Field("after_success", "bool", (), "meta", "a settle step: recorded after the success step, the policy holding still"),
)

EPISODE_FIELDS: tuple[Field, ...] = (
    Field("task", "str", (), "meta", "SetTable, TidyHouse or PrepareGroceries"),
    Field("subtask", "str", (), "meta", "pick, place, open or close"),
    Field("target_name", "str", (), "meta", "scene name of the target actor or articulation"),
    Field("target_category", "str", (), "meta", "object category, or fridge/drawer"),
    Field("instruction", "str", (), "meta", "language instruction"),
    Field("layout_seed", "int64", (), "meta", "seed of the procedural home"),
    Field("episode_seed", "int64", (), "meta", "seed of spawn and expert noise"),
    Field("split", "str", (), "meta", "train or val"),
    Field("success", "bool", (), "meta", "the success rule holds at the last step"),
    Field("length", "int32", (), "meta", "number of recorded steps (settle steps included)"),
    Field("success_step", "int32", (), "meta", "steps taken when the success rule first held (-1: never); "
          "the steps after it are settle steps"),
    Field("action_noise", "float32", (), "meta", "std of the Gaussian noise added to executed actions (normalised units)"),
    Field("expert", "str", (), "meta", "name of the policy that produced the episode"),
    Field("failure_reason", "str", (), "meta", "empty on success, else why it failed"),
)

STEP_KEYS = tuple(f.key for f in STEP_FIELDS)
EPISODE_KEYS = tuple(f.key for f in EPISODE_FIELDS)
FIELDS = {f.key: f for f in STEP_FIELDS + EPISODE_FIELDS}
OBS_KEYS = tuple(f.key for f in STEP_FIELDS if f.role == "obs")
LABEL_KEYS = tuple(f.key for f in STEP_FIELDS if f.role == "label")


def check_steps(steps: dict[str, np.ndarray]) -> int:
    """Raise ValueError naming the first step key whose (T, ...) array does not match the schema
    (keys the schema does not name are not looked at); return the episode length T."""
    lengths = set()
    for f in STEP_FIELDS:
        if f.key not in steps:
            raise ValueError(f"{f.key}: missing from the episode's steps")
        a = steps[f.key]
        matches = isinstance(a, np.ndarray) and a.dtype == f.numpy_dtype and a.ndim == len(f.shape) + 1
        if not matches or a.shape[1:] != f.shape:
            got = f"{a.dtype}{a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
            raise ValueError(f"{f.key}: got {got}, schema says {f.dtype}(T, {', '.join(map(str, f.shape))})")
        lengths.add(len(a))
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"step keys disagree on the episode length or it is empty: lengths {sorted(lengths)}")
    (length,) = lengths
    return length


def depth_to_image(depth_mm: np.ndarray) -> np.ndarray:
    """SG-VLA Eq. 1: p = 1 - tanh(depth_mm / 1000), in (0, 1], near objects bright."""
    return 1.0 - np.tanh(np.asarray(depth_mm, dtype=np.float32) / 1000.0)
