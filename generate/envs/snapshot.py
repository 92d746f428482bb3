"""Save a grid of head / hand / third-person views at reset for every SetTable column.

Usage: python -m hab_aux.generate.envs.snapshot OUT.png [LAYOUT_SEED]
Rows are columns of the success table; the target mask is tinted red in the head and hand views.
"""

import sys

import numpy as np
from PIL import Image, ImageDraw

from hab_aux.generate.envs import make_subtask_env
from hab_aux.tasks import get_task

TILE = 256


def _tile(img: np.ndarray, mask: np.ndarray | None = None) -> Image.Image:
    img = img.copy()
    if mask is not None:
        img[mask] = (0.5 * img[mask] + [127, 0, 0]).astype(np.uint8)
    return Image.fromarray(img).resize((TILE, TILE), Image.NEAREST)


def snapshot(path: str, layout_seed: int = 3, episode_seed: int = 0) -> None:
    columns = get_task("SetTable").columns
    grid = Image.new("RGB", (3 * TILE, len(columns) * TILE), "white")
    draw = ImageDraw.Draw(grid)
    for row, col in enumerate(columns):
        env = make_subtask_env("SetTable", col.subtask, col.articulation, third_person=True)
        obs, (info,) = env.reset([layout_seed], [episode_seed])
        tiles = [_tile(obs["head_rgb"][0], obs["head_mask"][0]), _tile(obs["hand_rgb"][0], obs["hand_mask"][0]),
                 _tile(env.render_third_person()[0])]  # fmt: skip
        for k, t in enumerate(tiles):
            grid.paste(t, (k * TILE, row * TILE))
        draw.text((4, row * TILE + 4), f"{col.name}: {info.instruction}", fill=(255, 255, 0))
        env.close()
    grid.save(path)


if __name__ == "__main__":
    snapshot(sys.argv[1], *(int(a) for a in sys.argv[2:3]))
