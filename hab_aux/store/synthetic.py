"""Schema-exact synthetic episodes that look like rendered home frames, for tests and benchmarks.

A frame is a crop of a larger static scene (shaded wall and floor, a few shaded objects, mild
texture), so a moving base shifts the view and a standing robot sees the same pixels again, as a
deterministic renderer would; an "arm" blob moves every step. Depth, instance ids and the target
mask come from the same geometry, so their compressibility is coupled to the RGB like real data.
"""

import numpy as np
from PIL import Image

from hab_aux import schema

_PAD = 32  # the scene canvas is this much larger than a frame on each side


def _scene(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One static canvas: rgb float (H, W, 3), depth mm float (H, W), instance ids int16 (H, W)."""
    h = w = size + 2 * _PAD
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    horizon = h * rng.uniform(0.35, 0.55)
    wall = rng.uniform(120, 220, 3) * (0.8 + 0.2 * yy[..., None] / h)
    floor = rng.uniform(60, 160, 3) * (0.7 + 0.3 * (yy[..., None] - horizon) / h)
    is_floor = yy >= horizon
    rgb = np.where(is_floor[..., None], floor, wall)
    coarse = Image.fromarray(rng.normal(0, 6, (h // 8, w // 8)).astype(np.float32), mode="F")
    smooth = np.asarray(coarse.resize((w, h), Image.BILINEAR))[..., None]
    rgb = rgb + smooth + rng.normal(0, 1.0, rgb.shape)
    depth = np.where(is_floor, 4000.0 - 2500.0 * (yy - horizon) / (h - horizon), 4500.0)
    ids = np.where(is_floor, 2, 1).astype(np.int16)
    for k in reversed(range(rng.integers(4, 8))):
        # the target (k = 0, drawn last so nothing hides it) sits near the view's centre
        cy, cx = (rng.uniform(0.5, 0.6) * h, rng.uniform(0.4, 0.6) * w) if k == 0 else (
            rng.uniform(0.3, 0.9) * h, rng.uniform(0.1, 0.9) * w)
        ry, rx = rng.uniform(6, 20, 2)
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        shade = 0.6 + 0.4 * np.clip((cx - xx) / rx, -1, 1)[..., None]
        rgb = np.where(inside[..., None], rng.uniform(30, 250, 3) * shade, rgb)
        depth = np.where(inside, rng.uniform(600, 2500) + 0.2 * (yy - cy) ** 2, depth)
        ids = np.where(inside, 10 + k, ids).astype(np.int16)
    return rgb, depth, ids


def _camera(rng: np.random.Generator, steps: int, moving_steps: int, target_id: int) -> dict[str, np.ndarray]:
    s = schema.IMAGE_SIZE
    rgb, depth, ids = _scene(rng, s)
    drift = np.cumsum(rng.integers(-1, 2, (steps, 2)) * (np.arange(steps) < moving_steps)[:, None], axis=0)
    offsets = np.clip(_PAD + drift, 0, 2 * _PAD)
    out = {"rgb": [], "depth": [], "seg": []}
    yy, xx = np.mgrid[0:s, 0:s]
    for t, (oy, ox) in enumerate(offsets):
        frame_rgb, frame_depth = rgb[oy : oy + s, ox : ox + s].copy(), depth[oy : oy + s, ox : ox + s].copy()
        frame_ids = ids[oy : oy + s, ox : ox + s].copy()
        arm = ((yy - (s - 10 - t % 40)) / 14.0) ** 2 + ((xx - s / 2 - 20 * np.sin(t / 15)) / 9.0) ** 2 <= 1
        frame_rgb[arm], frame_depth[arm], frame_ids[arm] = (90, 90, 95), 400.0, 3
        out["rgb"].append(frame_rgb)
        out["depth"].append(frame_depth)
        out["seg"].append(frame_ids)
    seg = np.stack(out["seg"]).astype(np.int16)
    return {
        "rgb": np.clip(np.stack(out["rgb"]), 0, 255).astype(np.uint8),
        "depth": np.stack(out["depth"]).round().astype(np.uint16)[..., None],
        "seg": seg,
        "mask": seg == target_id,
    }


def synthetic_episode(
    seed: int, steps: int = 40, task: str = "SetTable", subtask: str = "pick", category: str = "bowl"
) -> tuple[dict[str, np.ndarray], dict]:
    """Return (steps, meta) for one episode, every key exactly as schema.py defines it."""
    rng = np.random.default_rng(seed)
    target_id = 10  # the first object of every scene
    data: dict[str, np.ndarray] = {}
    for cam in schema.CAMERAS:
        for name, arr in _camera(rng, steps, moving_steps=steps // 3, target_id=target_id).items():
            data[f"{cam}_{name}"] = arr
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    data["qpos"] = (rng.uniform(-1, 1, (1, schema.QPOS_DIM)) + 0.3 * t).astype(np.float32)
    data["base_pose"] = (rng.uniform(-3, 3, (1, 3)) + 0.1 * t).astype(np.float32)
    data["is_grasped"] = np.arange(steps) >= steps // 2
    quat = np.tile(np.array([1, 0, 0, 0], np.float32), (steps, 1))
    data["target_pose"] = np.concatenate([rng.uniform(-1, 1, (1, 3)) + 0 * t, quat], 1).astype(np.float32)
    data["tcp_pose"] = np.concatenate([rng.uniform(-1, 1, (1, 3)) + 0.2 * t, quat], 1).astype(np.float32)
    data["action"] = rng.uniform(-1, 1, (steps, schema.ACTION_DIM)).astype(np.float32)
    success = bool(seed % 4)
    settle = min(3, steps - 1) if success else 0  # the last steps of a success are settle steps
    data["after_success"] = np.arange(steps) >= steps - settle
    meta = {
        "task": task,
        "subtask": subtask,
        "target_name": f"{category}-{seed}",
        "target_category": category,
        "instruction": f"{subtask} the {category} ünïcode",
        "layout_seed": seed * 7,
        "episode_seed": seed,
        "split": "train" if seed % 5 else "val",
        "success": success,
        "length": steps,
        "expert": "synthetic",
        "failure_reason": "" if success else "timeout",
        "success_step": steps - settle if success else -1,
        "action_noise": 0.0,
    }
    return data, meta
