"""Rollout frames: head | hand | third-person view, side by side, and a still strip of each
(the videos themselves: hab_aux.inspect.video.write_video)."""

from pathlib import Path

import numpy as np


def side_by_side(obs: dict[str, np.ndarray], third_person: np.ndarray) -> np.ndarray:
    """(K, H, W', 3) frames: head | hand | third person (resized to the cameras' height)."""
    height = obs["head_rgb"].shape[1]
    third = np.stack([_resize_nearest(image, height) for image in third_person])
    return np.concatenate([obs["head_rgb"], obs["hand_rgb"], third], axis=2)


def _resize_nearest(image: np.ndarray, height: int) -> np.ndarray:
    rows = np.linspace(0, image.shape[0] - 1, height).astype(int)
    width = round(image.shape[1] * height / image.shape[0])
    cols = np.linspace(0, image.shape[1] - 1, width).astype(int)
    return image[rows][:, cols]


STRIP_FRAMES = 6


def write_strip(path: Path, frames: list[np.ndarray], n: int = STRIP_FRAMES) -> None:
    """One PNG of `n` evenly spaced frames, first to last, stacked top to bottom: a rollout at a glance."""
    import imageio.v3 as iio

    picks = np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, np.concatenate([frames[i] for i in picks], axis=0))
