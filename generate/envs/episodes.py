"""Episode plans: which target, where everything starts, where the robot spawns (pure numpy).

A plan is a function of (task, subtask, articulation, layout, episode seed), so the same seeds
replay the same episode. Receptacles per task follow MS-HAB's spirit: SetTable moves the bowl and
apple from the kitchen counter to the dining table; TidyHouse moves objects between the counter,
tables and shelf; PrepareGroceries moves them between the fridge (door left open) and the counter.
"""

from dataclasses import dataclass, field

import numpy as np

from hab_aux.generate.world import furniture as fb
from hab_aux.generate.world.home import N_DISTRACTORS, RECEPTACLE_PHRASE, surface
from hab_aux.generate.world.layout import Layout
from hab_aux.generate.world.objects import DISTRACTOR_SPEC, SPECS
from hab_aux.tasks import CATEGORIES, SUBTASKS, Target, get_task

# Base centre to a surface's front edge, and to a handle bar, m. Objects lie 10-25 cm behind the
# front edge, which keeps them inside the hand camera's view from the rest pose (it looks down,
# slightly backwards); handles need the camera in front of them so the counter top or fridge
# front do not hide them.
SURFACE_STANDOFF = (0.42, 0.5)
HANDLE_STANDOFF = (0.7, 0.8)  # Fetch reaches a 1 m high handle horizontally from 0.65-0.7 m on
FRIDGE_FREE_SIDE = 0.1  # stand this far towards the fridge's free edge: the swinging door clears the base
SPAWN_YAW_NOISE = 0.12  # rad
SPAWN_LATERAL_NOISE = 0.08  # m
# Place: the base stands this far to the side of the goal (towards the surface's middle), so an
# object let go from the rest pose lands outside the goal radius: placing takes carrying it there.
PLACE_SIDE_OFFSET = (0.25, 0.32)  # m
CLOSE_START_FRACTION = (0.6, 0.9)  # close episodes start open in this part of the joint range
JOINT_RANGES = {"drawer": (0.0, fb.DRAWER_TRAVEL), "fridge": (0.0, fb.FRIDGE_DOOR_RANGE)}
_ROUTES = {
    "SetTable": (("counter",), ("dining_table",)),
    "TidyHouse": (("counter", "dining_table", "side_table", "shelf"),) * 2,
}


@dataclass(frozen=True)
class EpisodePlan:
    task: str
    subtask: str
    articulation: str | None
    target_category: str  # object category, or fridge/drawer
    target_name: str
    instruction: str
    object_poses: dict  # object name -> (x, y, z, yaw) on a receptacle
    goal: tuple | None  # place goal position (world)
    goal_receptacle: str | None
    joint_fractions: dict = field(default_factory=dict)  # "fridge"/"drawer" -> initial open fraction
    base: tuple = (0.0, 0.0, 0.0)  # x, y, yaw


def _route(task: str, rng) -> tuple[str, str]:
    if task == "PrepareGroceries":
        return ("fridge", "counter") if rng.integers(2) else ("counter", "fridge")
    sources, goals = _ROUTES[task]
    src = str(rng.choice(sources))
    return src, str(rng.choice([g for g in goals if g != src]))


def _sample_spot(rng, layout, receptacle, near_front, radius, taken, tries=100):
    f, xs, ys, h = surface(layout, receptacle, near_front)
    for _ in range(tries):
        local = (rng.uniform(*xs), rng.uniform(*ys), h)
        p = f.to_world(local)
        if all(np.linalg.norm(p[:2] - q[:2]) > radius + r for q, r in taken):
            return p, local
    return None


def _spawn(rng, layout, furniture: str, local_x: float, local_y: float) -> tuple:
    """Base pose at (local_x, local_y) in front of `furniture` (plus noise), facing it."""
    f = layout.furniture[furniture]
    lx = local_x
    ly = local_y + rng.uniform(-1, 1) * SPAWN_LATERAL_NOISE
    p = f.to_world((lx, ly, 0))
    yaw = f.yaw + np.pi + rng.uniform(-1, 1) * SPAWN_YAW_NOISE
    return float(p[0]), float(p[1]), float(np.arctan2(np.sin(yaw), np.cos(yaw)))


def _surface_spawn(rng, layout: Layout, receptacle: str, local_y: float) -> tuple:
    """In front of a surface spot; at the open fridge, on its free-edge half so the door
    (open at 90 degrees) clears the base."""
    f = layout.furniture[receptacle]
    if receptacle == "fridge":
        local_y = -layout.fridge_hinge * 0.15
    return _spawn(rng, layout, receptacle, f.size[0] / 2 + rng.uniform(*SURFACE_STANDOFF), local_y)


def _handle_spawn(rng, layout: Layout, articulation: str, fraction: float) -> tuple:
    """In front of the handle where the episode starts (an open door or drawer included)."""
    furniture = "counter" if articulation == "drawer" else "fridge"
    f = layout.furniture[furniture]
    hx, hy = fb.handle_local_xy(f, articulation, fraction, layout.drawer_offset, layout.fridge_hinge)
    if articulation == "fridge":
        hy -= layout.fridge_hinge * FRIDGE_FREE_SIDE
    return _spawn(rng, layout, furniture, hx + rng.uniform(*HANDLE_STANDOFF), hy)


def plan_episode(task: str, subtask: str, articulation: str | None, layout: Layout, episode_seed: int) -> EpisodePlan:
    rng = np.random.default_rng([layout.seed, episode_seed])
    t = get_task(task)
    fractions = {"fridge": 0.0, "drawer": 0.0}
    taken: list = []
    poses: dict = {}
    goal = goal_rec = None
    record = SUBTASKS[subtask]
    if record.target is Target.OBJECT:
        category = str(rng.choice(t.categories))
        src, goal_rec = _route(task, rng)
        if "fridge" in (src, goal_rec):
            fractions["fridge"] = 1.0
        spot = _sample_spot(rng, layout, src, True, SPECS[category].radius, taken)
        assert spot is not None, "an empty receptacle always has room for the target"
        poses[category] = (*map(float, spot[0]), float(rng.uniform(-np.pi, np.pi)))
        taken.append((spot[0], SPECS[category].radius))
        if record.to_goal:
            g = _sample_spot(rng, layout, goal_rec, True, 0.0, [])
            goal = tuple(float(v) for v in g[0])
            side = -1.0 if g[1][1] > 0 else 1.0
            base = _surface_spawn(rng, layout, goal_rec, g[1][1] + side * rng.uniform(*PLACE_SIDE_OFFSET))
        else:
            base = _surface_spawn(rng, layout, src, spot[1][1])
        target_name = category
        instruction = record.instruction(category, f" {RECEPTACLE_PHRASE[goal_rec]}")
    else:
        category = target_name = articulation
        if record.starts_open:
            fractions[articulation] = float(rng.uniform(*CLOSE_START_FRACTION))
        base = _handle_spawn(rng, layout, articulation, fractions[articulation])
        instruction = record.instruction(articulation)
    # Everything else goes on random receptacles (never the fridge, whose door may be shut), kept
    # clear of the target and of the robot's base.
    others = [c for c in CATEGORIES if c != target_name] + [f"distractor{k}" for k in range(N_DISTRACTORS)]
    for name in others:
        r = SPECS[name].radius if name in SPECS else DISTRACTOR_SPEC.radius
        for rec in rng.permutation(["counter", "dining_table", "side_table", "shelf"]):
            spot = _sample_spot(rng, layout, str(rec), False, r, taken + [(np.array(base[:2] + (0,)), 0.45)])
            if spot is not None:
                break
        else:
            raise RuntimeError(f"layout {layout.seed}: no free spot for {name}")
        poses[name] = (*map(float, spot[0]), float(rng.uniform(-np.pi, np.pi)))
        taken.append((spot[0], r))
    return EpisodePlan(task, subtask, articulation, category, target_name, instruction, poses, goal, goal_rec, fractions, base)

