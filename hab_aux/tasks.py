"""Tasks, subtasks and evaluation columns: plain data shared by generate, train and eval.

Mirrors MS-HAB: SetTable has open/close of the fridge and the drawer and pick/place of a bowl
and an apple; TidyHouse and PrepareGroceries are pick/place of several objects.

Each subtask is one `Subtask` record: what its target is, how its episodes start, its success
rule and failure diagnosis, its instruction. Code that differs by subtask reads the record (the
experts are generate's table keyed by column, `hab_aux.generate.experts`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from hab_aux import diagnosis, success
from hab_aux.errors import UserError, choose

SIM_BACKENDS = ("cpu", "gpu")  # physx_cpu + sapien_cpu, physx_cuda + sapien_cuda
ARTICULATIONS = ("fridge", "drawer")
CATEGORIES = ("bowl", "apple", "can", "box", "mug", "bottle", "pear")
MAX_EPISODE_STEPS = 200
CONTROL_FREQ = 20


class Target(Enum):
    OBJECT = "object"  # a pick/place object of the task's categories
    HANDLE = "handle"  # the handle of the fridge or the drawer (the episode's articulation)


@dataclass(frozen=True)
class Subtask:
    name: str
    target: Target
    instruction_template: str  # {category}: the target's; {where}: " on the table" where the plan says, else ""
    collision_force_limit: float  # N, cumulative (mshab.md)
    success: Callable[[success.Measured], bool]
    diagnose: Callable[[diagnosis.Trace, str | None], str]  # (trace, articulation) -> why it failed
    to_goal: bool = False  # the target starts in the gripper and goes to a goal (place)
    starts_open: bool = False  # the articulation starts partly open (close)

    def instruction(self, category: str, where: str = "") -> str:
        return self.instruction_template.format(category=category, where=where)


SUBTASKS: dict[str, Subtask] = {
    s.name: s
    for s in (
        Subtask("pick", Target.OBJECT, "pick up the {category}", 5000.0, success.pick_rule, diagnosis.diagnose_pick),
        Subtask("place", Target.OBJECT, "place the {category}{where}", 7500.0, success.place_rule, diagnosis.diagnose_place,
                to_goal=True),  # fmt: skip
        Subtask("open", Target.HANDLE, "open the {category}", 10000.0, success.open_rule, diagnosis.diagnose_open),
        Subtask("close", Target.HANDLE, "close the {category}", 10000.0, success.close_rule, diagnosis.diagnose_close,
                starts_open=True),  # fmt: skip
    )
}


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
