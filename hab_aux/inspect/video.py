"""Videos at the control rate: the one writer (mp4 or gif), and an episode as a video (head and hand
RGB side by side, the target mask tinted red)."""

from pathlib import Path

import numpy as np

from hab_aux import schema
from hab_aux.errors import UserError
from hab_aux.inspect.previews import tint
from hab_aux.store import Dataset
from hab_aux.tasks import CONTROL_FREQ

SUFFIXES = (".mp4", ".gif")


def _imageio(suffix: str):
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise UserError("--video needs imageio: pip install 'hab-aux[sim]' (or imageio imageio-ffmpeg)") from None
    if suffix == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401  (the mp4 writer of imageio)
        except ImportError:
            raise UserError("writing .mp4 needs imageio-ffmpeg: pip install imageio-ffmpeg, or give a .gif") from None
    return imageio


def check_video_path(out: Path) -> None:
    if out.suffix not in SUFFIXES:
        raise UserError(f"video file {out} must end in {' or '.join(SUFFIXES)}")


def write_video(out: Path, frames: list[np.ndarray] | np.ndarray) -> Path:
    """Write (H, W, 3) uint8 frames to `out` (.mp4 or .gif) at the control rate. Any frame size:
    mp4 frames are not padded to a multiple of 16 pixels."""
    check_video_path(out)
    imageio = _imageio(out.suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".mp4":
        imageio.mimwrite(out, list(frames), fps=CONTROL_FREQ, codec="libx264", macro_block_size=1)
    else:
        imageio.mimwrite(out, list(frames), duration=1000 / CONTROL_FREQ, loop=0)
    return out


def episode_video(ds: Dataset, episode: int, out: Path, scale: int = 2) -> Path:
    """Write the episode to `out` (.mp4 or .gif) at the control rate."""
    check_video_path(out)
    ep = ds.episode(episode, tuple(f"{cam}_{kind}" for cam in schema.CAMERAS for kind in ("rgb", "mask")))
    views = [np.stack([tint(r, m) for r, m in zip(ep[f"{c}_rgb"], ep[f"{c}_mask"])]) for c in schema.CAMERAS]
    return write_video(out, np.concatenate(views, axis=2).repeat(scale, axis=1).repeat(scale, axis=2))
