"""Tasks, subtasks and evaluation columns: plain data shared by generate, train and eval.

Mirrors MS-HAB: SetTable has open/close of the fridge and the drawer and pick/place of a bowl
and an apple; TidyHouse and PrepareGroceries are pick/place of several objects.
"""

from dataclasses import dataclass

from hab_aux.errors import UserError, choose

SUBTASKS = ("pick", "place", "open", "close")
SIM_BACKENDS = ("cpu", "gpu")  # physx_cpu + sapien_cpu, physx_cuda + sapien_cuda
ARTICULATIONS = ("fridge", "drawer")
CATEGORIES = ("bowl", "apple", "can", "box", "mug", "bottle", "pear")

# Success-rule parameters from mshab.md.
OPEN_FRACTION = {"fridge": 0.75, "drawer": 0.9}
CLOSE_FRACTION = 0.01
PLACE_GOAL_RADIUS = 0.15
COLLISION_FORCE_LIMIT = {"pick": 5000.0, "place": 7500.0, "open": 10000.0, "close": 10000.0}
MAX_EPISODE_STEPS = 200
CONTROL_FREQ = 20


@dataclass(frozen=True)
class Column:
    """One column of the paper's success table."""

    name: str  # as printed: "Pick", "Open F", ...
    subtask: str
    articulation: str | None = None  # fridge/drawer for open/close

    @property
    def key(self) -> str:
        """Its name on the command line: the subtask, plus the articulation for open/close."""
        return self.subtask if self.articulation is None else f"{self.subtask}-{self.articulation}"


def column_key(subtask: str, target_category: str) -> str:
    """The `Column.key` of a recorded episode, from its subtask and target category."""
    return f"{subtask}-{target_category}" if target_category in ARTICULATIONS else subtask


@dataclass(frozen=True)
class Task:
    name: str
    columns: tuple[Column, ...]
    categories: tuple[str, ...]  # target object categories for pick/place

    @property
    def subtasks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.subtask for c in self.columns))


_PICK, _PLACE = Column("Pick", "pick"), Column("Place", "place")
TASKS: dict[str, Task] = {
    "SetTable": Task(
        "SetTable",
        (
            _PICK,
            _PLACE,
            Column("Open F", "open", "fridge"),
            Column("Open D", "open", "drawer"),
            Column("Close F", "close", "fridge"),
            Column("Close D", "close", "drawer"),
        ),
        ("bowl", "apple"),
    ),
    "TidyHouse": Task("TidyHouse", (_PICK, _PLACE), ("bowl", "apple", "can", "box", "mug", "bottle", "pear")),
    "PrepareGroceries": Task("PrepareGroceries", (_PICK, _PLACE), ("can", "box", "bottle", "apple", "pear")),
}

# Layout seeds: evaluation uses layouts no training episode used.
SPLIT_SEED_RANGES = {"train": (0, 1_000_000), "val": (1_000_000, 1_100_000)}


def get_task(name: str) -> Task:
    return TASKS[choose("task", name, TASKS)]


def parse_subtasks(task: Task, spec: str | None) -> tuple[str, ...]:
    """Parse a comma-separated list of subtasks ("open": every open column) or column keys
    ("open-drawer"), checked against what the task contains."""
    if not spec:
        return task.subtasks
    chosen = tuple(s.strip() for s in spec.split(",") if s.strip())
    valid = dict.fromkeys([*task.subtasks, *(c.key for c in task.columns)])
    for s in chosen:
        choose(f"subtask for {task.name}", s, valid)
    if not chosen:
        raise UserError(f"empty subtask list {spec!r}; valid: {', '.join(valid)}")
    return chosen


def select_columns(task: Task, chosen: tuple[str, ...] | None) -> tuple[Column, ...]:
    """The task's columns named by `chosen` (subtasks or column keys, as parse_subtasks returns); all when None."""
    return tuple(c for c in task.columns if chosen is None or c.subtask in chosen or c.key in chosen)


def check_num_envs(num_envs: int, sim_backend: str) -> None:
    """The CPU simulator runs one env per process; physx_cuda batches several per process."""
    choose("sim backend", sim_backend, SIM_BACKENDS)
    if num_envs < 1 or (num_envs > 1 and sim_backend == "cpu"):
        raise UserError(f"--num-envs {num_envs}: must be 1 with --sim-backend cpu (one env per process), >= 1 with gpu")
    if sim_backend == "gpu":
        from hab_aux.devices import require_cuda

        require_cuda("--sim-backend gpu (physx_cuda + sapien_cuda)")


def seed_range(split: str) -> tuple[int, int]:
    return SPLIT_SEED_RANGES[choose("split", split, SPLIT_SEED_RANGES)]
