"""Which LeRobot v3 feature each hab-aux step key becomes, and the array it holds per frame.

LeRobot's policy factory (`dataset_to_policy_features`) feeds a policy every `observation.*` key and
trains it to predict `action`; it skips any other key. So what a policy may read goes under
`observation.` (RGB and depth as videos, qpos as `observation.state`), and the auxiliary labels go
under `label.`: every sample carries them, but no LeRobot policy consumes them unasked (a 1-channel
mask given to a policy as a camera would break it). Labels are stored losslessly in the parquet
files; only the images are lossy (video).
"""

from dataclasses import dataclass

import numpy as np

from hab_aux import schema

CODEBASE_VERSION = "v3.0"  # LeRobotDataset format version (lerobot >= 0.4)
ROBOT_TYPE = "fetch"
POSE_NAMES = ("x", "y", "z", "qw", "qx", "qy", "qz")
VECTOR_NAMES = {
    "qpos": schema.QPOS_NAMES,
    "action": schema.ACTION_NAMES,
    "base_pose": ("x", "y", "yaw"),
    "target_pose": POSE_NAMES,
    "tcp_pose": POSE_NAMES,
}
DEPTH_ENCODING = (
    "v = round(255 * (1 - tanh(depth_mm / 1000))) in all three channels (SG-VLA Eq. 1; near is bright, "
    "0 mm = no hit gives 255); inverse: depth_mm = 1000 * atanh(1 - v / 255)"
)


@dataclass(frozen=True)
class Feature:
    name: str  # the LeRobot key
    source: str  # the schema key it is made from
    dtype: str  # a numpy dtype name, or "video"
    shape: tuple[int, ...]
    names: tuple[str, ...] | None

    @property
    def is_video(self) -> bool:
        return self.dtype == "video"

    def values(self, episode: dict[str, np.ndarray]) -> np.ndarray:
        """This feature's frames in one episode: (T, H, W, 3) uint8 for a video, else (T, *shape)
        with scalars as (T,)."""
        a = np.asarray(episode[self.source])
        return depth_to_video(a) if self.source.endswith("_depth") else a

    def info(self) -> dict:
        """The feature's entry in meta/info.json."""
        return {"dtype": self.dtype, "shape": list(self.shape), "names": list(self.names) if self.names else None}


def depth_to_video(depth_mm: np.ndarray) -> np.ndarray:
    """(T, H, W, 1) uint16 millimetres -> (T, H, W, 3) uint8 frames, encoded as DEPTH_ENCODING says."""
    gray = np.rint(255.0 * schema.depth_to_image(depth_mm[..., 0])).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def video_to_depth(frames: np.ndarray) -> np.ndarray:
    """The inverse of depth_to_video on decoded frames (T, H, W, 3) uint8 -> (T, H, W) float mm; 0 (all
    beyond about 3.5 m) decodes as half a grey level, about 3.5 m."""
    v = np.clip(frames[..., 0].astype(np.float64), 0.5, 255.0) / 255.0
    return 1000.0 * np.arctanh(1.0 - v)


def _feature(field: schema.Field) -> Feature:
    key, size = field.key, schema.IMAGE_SIZE
    if field.role == "obs" and (key.endswith("_rgb") or key.endswith("_depth")):
        cam, kind = key.rsplit("_", 1)
        name = f"observation.images.{cam}" + ("_depth" if kind == "depth" else "")
        return Feature(name, key, "video", (size, size, 3), ("height", "width", "channels"))
    names = VECTOR_NAMES.get(key) or (("height", "width") if len(field.shape) == 2 else None)
    name = {"qpos": "observation.state", "action": "action", "after_success": "after_success"}.get(key, f"label.{key}")
    return Feature(name, key, field.dtype, field.shape or (1,), names)


FEATURES: tuple[Feature, ...] = tuple(_feature(f) for f in schema.STEP_FIELDS)
VIDEO_FEATURES = tuple(f for f in FEATURES if f.is_video)
DATA_FEATURES = tuple(f for f in FEATURES if not f.is_video)
# LeRobot's own columns of every frame (lerobot.datasets.utils.DEFAULT_FEATURES).
INDEX_FEATURES = (
    Feature("timestamp", "", "float32", (1,), None),
    Feature("frame_index", "", "int64", (1,), None),
    Feature("episode_index", "", "int64", (1,), None),
    Feature("index", "", "int64", (1,), None),
    Feature("task_index", "", "int64", (1,), None),
)
