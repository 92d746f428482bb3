"""The one mapping from a ManiSkill Fetch observation to the schema's step keys (all but "action").

Both worlds use it: the procedural `SubtaskEnv` and MS-HAB's envs (`mshab.py`), so their
datasets carry the same labels computed the same way (conventions in mshab.md).
"""

import numpy as np
import torch

from hab_aux.schema import CAMERAS


def to_numpy(x) -> np.ndarray:
    return x.cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def pose7(pose) -> np.ndarray:
    """(K, 7) xyz + wxyz of a batched ManiSkill `Pose`."""
    return np.concatenate([to_numpy(pose.p), to_numpy(pose.q)], axis=-1).astype(np.float32)


def schema_observation(obs: dict, agent, target, target_pose, is_grasped) -> dict[str, np.ndarray]:
    """`obs` from an "rgb+depth+segmentation" env; `target` the object or handle link (its
    `per_scene_id` makes the mask); `target_pose` its world pose; `is_grasped` (K,)
    `agent.is_grasping(target, max_angle=30)`, passed in because the env's `evaluate` has already
    computed it for the success rule (ManiSkill's contact query is a few percent of a step)."""
    out: dict[str, np.ndarray] = {}
    target_id = to_numpy(target.per_scene_id).astype(np.int16).reshape(-1, 1, 1)
    for cam in CAMERAS:
        data = obs["sensor_data"][f"fetch_{cam}"]
        seg = to_numpy(data["segmentation"])[..., 0].astype(np.int16)
        out[f"{cam}_rgb"] = to_numpy(data["rgb"]).astype(np.uint8)
        out[f"{cam}_depth"] = np.clip(to_numpy(data["depth"]).astype(np.int32), 0, None).astype(np.uint16)
        out[f"{cam}_seg"] = seg
        out[f"{cam}_mask"] = seg == target_id
    base = agent.base_link.pose
    out["qpos"] = to_numpy(agent.robot.get_qpos()).astype(np.float32)
    q = to_numpy(base.q)  # wxyz; the base only turns about z
    yaw = 2 * np.arctan2(q[:, 3], q[:, 0])
    yaw = np.arctan2(np.sin(yaw), np.cos(yaw))
    out["base_pose"] = np.concatenate([to_numpy(base.p)[:, :2], yaw[:, None]], axis=1).astype(np.float32)
    out["is_grasped"] = to_numpy(is_grasped).astype(bool).reshape(-1)
    to_base = base.inv()
    out["target_pose"] = pose7(to_base * target_pose)
    out["tcp_pose"] = pose7(to_base * agent.tcp.pose)
    return out
