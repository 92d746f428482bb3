"""Random-shift augmentation (DrQ's pad-and-crop) for training samples.

Behaviour cloning from pixels on a few hundred episodes overfits to exact pixel positions; shifting
each sample's images by a few pixels is the cheapest known remedy. One offset per sample moves every
image and mask of it together, so RGB, depth and the head mask stay aligned. The offset comes from a
generator the caller seeds per batch, so a resumed run sees the same augmented batches.
"""

import numpy as np


def _spatial_axes(a: np.ndarray) -> tuple[int, int]:
    """(H, W) axes of a mask (H, W), an image (H, W, C) or a history stack (T, H, W, C)."""
    return (0, 1) if a.ndim == 2 else (a.ndim - 3, a.ndim - 2)


def shift(a: np.ndarray, dy: int, dx: int, pad: int) -> np.ndarray:
    """`a` moved by (dy, dx) pixels, |dy|, |dx| <= pad; the uncovered border repeats the edge pixels."""
    ay, ax = _spatial_axes(a)
    widths = [(0, 0)] * a.ndim
    widths[ay] = widths[ax] = (pad, pad)
    padded = np.pad(a, widths, mode="edge")
    index = [slice(None)] * a.ndim
    index[ay] = slice(pad - dy, pad - dy + a.shape[ay])
    index[ax] = slice(pad - dx, pad - dx + a.shape[ax])
    return padded[tuple(index)]


def random_shift(sample: dict, keys: tuple[str, ...], pad: int, rng: np.random.Generator) -> dict:
    """A copy of `sample` with the arrays under `keys` (those present and not None) shifted by one
    random offset in [-pad, pad] on each axis."""
    dy, dx = (int(v) for v in rng.integers(-pad, pad + 1, size=2))
    return {k: shift(np.asarray(v), dy, dx, pad) if k in keys and v is not None else v for k, v in sample.items()}
