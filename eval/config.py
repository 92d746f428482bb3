"""`habaux eval`'s settings as one dataclass: the CLI's defaults are its defaults (light imports, so the CLI's help reads it)."""

from dataclasses import dataclass
from pathlib import Path

from hab_aux.errors import UserError, choose
from hab_aux.generate.plan import WORLDS
from hab_aux.rollout import check_action_noise
from hab_aux.tasks import MAX_EPISODE_STEPS, seed_range


@dataclass(frozen=True)
class EvalConfig:
    episodes: int = 30
    split: str = "val"
    seed: int = 0  # offset into the split's layout seeds: episode i uses layout start + seed + i
    sim_backend: str = "cpu"
    num_envs: int = 1
    max_steps: int = MAX_EPISODE_STEPS
    video_dir: Path | None = None
    world: str = "procedural"  # hab_aux.generate.plan.WORLDS
    episodes_from: Path | None = None  # a dataset: its first `episodes` recorded episodes per column
    workers: int = 1  # processes; each runs contiguous chunks of a column's episodes
    action_noise: float = 0.0  # std of Gaussian noise on executed actions (hab_aux.rollout.noisy): robustness

    def __post_init__(self):
        if self.episodes < 1:
            raise UserError(f"--episodes must be at least 1, got {self.episodes}")
        choose("world", self.world, WORLDS)
        if self.num_envs < 1:
            raise UserError(f"--num-envs must be at least 1, got {self.num_envs}")
        if self.workers < 1:
            raise UserError(f"--workers must be at least 1, got {self.workers}")
        check_action_noise(self.action_noise)
        start, stop = seed_range(self.split)
        if not 0 <= self.seed <= stop - start - self.episodes:
            raise UserError(f"--seed {self.seed} is outside the {self.split} layouts: 0..{stop - start - self.episodes}")

    @property
    def source(self) -> str:
        """What the episodes are, for report titles."""
        source = f"recorded episodes of {self.episodes_from}" if self.episodes_from is not None else f"{self.split} layouts"
        return source + (f", action noise {self.action_noise:g}" if self.action_noise else "")
