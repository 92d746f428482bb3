"""Layouts and episode plans: pure functions of the seeds (builders need sapien importable)."""

import numpy as np
import pytest

pytest.importorskip("sapien")

from hab_aux.generate.envs.episodes import plan_episode  # noqa: E402
from hab_aux.generate.world.layout import sample_layout  # noqa: E402
from hab_aux.tasks import SPLIT_SEED_RANGES  # noqa: E402


def test_layouts_deterministic_and_split_dependent():
    train, val = SPLIT_SEED_RANGES["train"][0] + 3, SPLIT_SEED_RANGES["val"][0] + 3
    assert sample_layout(train) == sample_layout(train)
    assert sample_layout(train).furniture != sample_layout(val).furniture


@pytest.mark.parametrize("seed", range(0, 400, 7))
def test_plans_for_many_layouts(seed):
    layout = sample_layout(seed)
    for task, subtask, art in [("SetTable", "pick", None), ("TidyHouse", "place", None), ("PrepareGroceries", "pick", None),
                               ("SetTable", "close", "fridge"), ("SetTable", "open", "drawer")]:  # fmt: skip
        plan = plan_episode(task, subtask, art, layout, seed)
        assert plan == plan_episode(task, subtask, art, layout, seed)
        x, y, _ = plan.base
        assert 0.3 < x < layout.room[0] - 0.3 and 0.3 < y < layout.room[1] - 0.3, "robot spawns inside the room"


BASE_RADIUS = 0.3  # Fetch's base footprint


@pytest.mark.parametrize("seed", range(1, 400, 13))
def test_spawn_clear_of_furniture(seed):
    layout = sample_layout(seed)
    for task, subtask, art in [("TidyHouse", "pick", None), ("PrepareGroceries", "place", None),
                               ("SetTable", "open", "fridge"), ("SetTable", "close", "drawer")]:  # fmt: skip
        x, y, _ = plan_episode(task, subtask, art, layout, seed).base
        for f in layout.furniture.values():
            x0, y0, x1, y1 = f.footprint()
            gap = np.hypot(max(x0 - x, 0, x - x1), max(y0 - y, 0, y - y1))
            assert gap > BASE_RADIUS, f"{task} {subtask}: base within {gap:.2f} m of the {f.name}"
