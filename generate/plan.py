"""Which episodes a generation run owes, and with which seeds: pure logic, no simulator.

The requested episodes are *slots* 0..N-1; slot j records column `columns[j % C]`. A slot is
filled by its first kept attempt; attempt r of slot j uses `episode_seed = j * MAX_ATTEMPTS + r`
and a layout seed derived from it, so every attempt is a different home and a rerun of the same
command recomputes the same seeds. Resuming reads which slots the stores already hold (from
their committed episode seeds) and owes only the rest: the final count is exact, without
duplicates, whatever the number of workers or shards in either run.
"""

from dataclasses import asdict, dataclass

from hab_aux.errors import UserError, choose
from hab_aux.rollout import check_action_noise
from hab_aux.store.codecs import DEFAULT_DEPTH_CODEC, DEPTH_CODECS
from hab_aux.tasks import MAX_EPISODE_STEPS, Column, get_task, parse_subtasks, seed_range, select_columns

MAX_ATTEMPTS = 64  # attempts per slot before the run stops with an error: the policy is broken there
# A column whose first this-many attempts all fail stops the run: the policy cannot do it.
HOPELESS_AFTER = 10
WORLDS = ("procedural", "mshab")  # our procedural homes, or MS-HAB's ReplicaCAD envs


@dataclass(frozen=True)
class GenerateConfig:
    """What defines a dataset's contents; a resumed run must match it exactly."""

    task: str
    subtasks: tuple[str, ...]  # subtasks or column keys ("open-drawer"), as given to --subtasks
    split: str = "train"
    seed: int = 0
    policy: str = "expert"
    keep_failures: bool = False
    max_steps: int = MAX_EPISODE_STEPS
    world: str = "procedural"
    settle_steps: int = 10  # recorded after the success step, the policy holding still (hab_aux.rollout)
    action_noise: float = 0.0  # std of the Gaussian noise on executed actions; labels stay clean
    mshab_checkpoints: str | None = None  # the folder --policy mshab-rl reads (absolute), else None
    depth_codec: str = DEFAULT_DEPTH_CODEC  # how the store codes depth: one of store.codecs.DEPTH_CODECS

    @classmethod
    def parse(cls, task: str, subtasks: str | None, **kwargs) -> "GenerateConfig":
        the_task = get_task(task)
        config = cls(task=the_task.name, subtasks=parse_subtasks(the_task, subtasks), **kwargs)
        seed_range(config.split)
        choose("world", config.world, WORLDS)
        choose("depth codec", config.depth_codec, DEPTH_CODECS)
        if config.seed < 0:
            raise UserError(f"--seed must be >= 0, got {config.seed}")
        if not 1 <= config.max_steps <= MAX_EPISODE_STEPS:
            raise UserError(f"--max-steps must be in 1..{MAX_EPISODE_STEPS}, got {config.max_steps}")
        if config.settle_steps < 0:
            raise UserError(f"--settle-steps must be >= 0 (0 ends an episode at its success step), got {config.settle_steps}")
        check_action_noise(config.action_noise)
        return config

    @property
    def columns(self) -> tuple[Column, ...]:
        return select_columns(get_task(self.task), self.subtasks)

    def to_json(self) -> dict:
        return {**asdict(self), "subtasks": list(self.subtasks)}

    @classmethod
    def from_json(cls, data: dict) -> "GenerateConfig":
        return cls(**{**data, "subtasks": tuple(data["subtasks"])})


@dataclass(frozen=True)
class Attempt:
    slot: int
    column: Column
    layout_seed: int
    episode_seed: int


def attempt(config: GenerateConfig, slot: int, r: int) -> Attempt:
    if r >= MAX_ATTEMPTS:
        raise UserError(f"slot {slot}: all {MAX_ATTEMPTS} attempts failed; the {config.policy} policy cannot do this column "
                        "reliably: leave its subtask out (--subtasks) or record failures too (--keep-failures)")  # fmt: skip
    start, stop = seed_range(config.split)
    episode_seed = slot * MAX_ATTEMPTS + r
    # a large odd multiplier spreads consecutive attempts over the split's layouts
    layout_seed = start + (config.seed * 1_000_003 + episode_seed * 7_919) % (stop - start)
    columns = config.columns
    return Attempt(slot, columns[slot % len(columns)], layout_seed, episode_seed)


def slot_of(episode_seed: int) -> tuple[int, int]:
    """(slot, attempt) of a recorded episode seed."""
    return divmod(int(episode_seed), MAX_ATTEMPTS)


def owed_slots(episodes: int, shard_index: int, num_shards: int, recorded_seeds: list[tuple[int, bool]],
               keep_failures: bool) -> tuple[list[int], dict[int, int]]:  # fmt: skip
    """Slots this shard of the run still owes, and the next attempt number for each slot.

    `recorded_seeds` are (episode_seed, success) of every committed episode in the dataset. A slot
    is done when it holds a success, or any episode with `keep_failures`.
    """
    done: set[int] = set()
    next_attempt: dict[int, int] = {}
    for seed, success in recorded_seeds:
        slot, r = slot_of(seed)
        next_attempt[slot] = max(next_attempt.get(slot, 0), r + 1)
        if success or keep_failures:
            done.add(slot)
    owed = [j for j in range(shard_index, episodes, num_shards) if j not in done]
    return owed, {j: next_attempt.get(j, 0) for j in owed}
