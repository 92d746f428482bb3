"""Build one procedural home per sub-scene, and where things may stand on its receptacles."""

from dataclasses import dataclass

import numpy as np

from hab_aux.generate.world import furniture as fb
from hab_aux.generate.world.layout import FRIDGE_SHELF_HEIGHT, Furniture, Layout
from hab_aux.generate.world.objects import build_object
from hab_aux.tasks import CATEGORIES

N_DISTRACTORS = 3
RECEPTACLE_PHRASE = {
    "counter": "on the kitchen counter", "dining_table": "on the dining table", "side_table": "on the side table",
    "shelf": "on the shelf", "fridge": "in the fridge",
}  # fmt: skip


@dataclass
class Home:
    """Handles to what was built in one sub-scene."""

    layout: Layout
    statics: dict  # name -> Actor
    counter: object  # Articulation (drawer)
    fridge: object  # Articulation (door)
    objects: dict  # name -> Actor; categories by name, plus "distractor0".."distractorN"


def build_home(scene, layout: Layout, idx: int) -> Home:
    floor, walls = fb.build_room(scene, layout, idx)
    f = layout.furniture
    statics = {
        "floor": floor, "walls": walls,
        "dining_table": fb.build_table(scene, f["dining_table"], idx),
        "side_table": fb.build_table(scene, f["side_table"], idx),
        "shelf": fb.build_table(scene, f["shelf"], idx, shelf_board=True),
    }  # fmt: skip
    counter = fb.build_counter(scene, f["counter"], layout.drawer_offset, idx)
    fridge = fb.build_fridge(scene, f["fridge"], layout.fridge_hinge, idx)
    objects = {c: build_object(scene, c, layout.object_colors[c], f"{c}-{idx}", idx) for c in CATEGORIES}
    rng = np.random.default_rng(layout.seed + 7)
    for k in range(N_DISTRACTORS):
        objects[f"distractor{k}"] = build_object(scene, "distractor", tuple(rng.uniform(0.1, 0.9, 3)), f"distractor{k}-{idx}", idx)
    return Home(layout, statics, counter, fridge, objects)


def surface(layout: Layout, receptacle: str, near_front: bool) -> tuple[Furniture, tuple, tuple, float]:
    """(furniture, local x range, local y range, height) where an object may stand.

    `near_front` keeps to a band 10-25 cm behind the front edge: reachable and in view from the spawn.
    """
    f = layout.furniture[receptacle]
    dx, wy, h = f.size
    if receptacle == "fridge":
        front = dx / 2 - 0.04 - 0.03
        return f, (front - 0.2, front - 0.08), (-wy / 2 + 0.12, wy / 2 - 0.12), FRIDGE_SHELF_HEIGHT
    xs = (dx / 2 - 0.25, dx / 2 - 0.1) if near_front else (-dx / 2 + 0.1, dx / 2 - 0.1)
    return f, xs, (-wy / 2 + 0.1, wy / 2 - 0.1), h
