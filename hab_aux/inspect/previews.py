"""Mask previews in the style of SG-VLA's Figure 1, and the colouring they share with videos.

Layout of the PNG: for each camera (head, then hand) `rows` rows, one per timestep spread over the
episode; each row is RGB | every instance id in its own colour | the target's binary mask, each
panel IMAGE_SIZE pixels square, so the image is 3*128 wide and 2*rows*128 high.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from hab_aux import schema
from hab_aux.store import Dataset

_PALETTE = np.random.default_rng(0).integers(40, 256, (1 << 16, 3), dtype=np.uint8)
_PALETTE[0] = 0  # id 0 (nothing) is black


def colour_ids(seg: np.ndarray) -> np.ndarray:
    """(H, W) instance ids -> (H, W, 3) uint8, a fixed colour per id."""
    return _PALETTE[seg.astype(np.uint16)]


def tint(rgb: np.ndarray, mask: np.ndarray, colour=(255, 0, 0), alpha: float = 0.5) -> np.ndarray:
    """RGB with the masked pixels blended towards `colour`."""
    out = rgb.astype(np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(colour, np.float32)
    return out.astype(np.uint8)


def preview_timesteps(length: int, rows: int) -> list[int]:
    return sorted(set(np.linspace(0, length - 1, min(rows, length)).round().astype(int).tolist()))


def mask_preview(ds: Dataset, episode: int, out: Path, rows: int = 4) -> Path:
    keys = tuple(f"{cam}_{kind}" for cam in schema.CAMERAS for kind in ("rgb", "seg", "mask"))
    ep = ds.episode(episode, keys)
    times = preview_timesteps(len(ep[keys[0]]), rows)
    panels = []
    for cam in schema.CAMERAS:
        for t in times:
            mask = np.repeat(ep[f"{cam}_mask"][t][..., None] * np.uint8(255), 3, axis=2)
            panels.append(np.concatenate([ep[f"{cam}_rgb"][t], colour_ids(ep[f"{cam}_seg"][t]), mask], axis=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(panels, axis=0)).save(out)
    return out
