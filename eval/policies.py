"""Trained-checkpoint policies for the eval harness (the scripted ones live in
`hab_aux.generate.policies`, which the generator uses too).

A factory takes (env, sub-env index k, column) and returns a fresh policy for sub-env k; the
column lets a checkpoint pick its head per subtask.
"""

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from hab_aux.errors import choose
from hab_aux.policy import Policy
from hab_aux.tasks import SUBTASKS, Column, Target

HEAD_CHOICES = ("auto", "tokens", "flow")
# The paper's task-adaptive choice: continuous actions for manipulation, tokens for mobility-heavy subtasks.
AUTO_HEAD = {Target.OBJECT: "flow", Target.HANDLE: "tokens"}


@dataclass(frozen=True)
class CheckpointFactory:
    """A trained SG-VLA, loaded once per process on first use; each call wraps it in a policy with
    the head for that column. It pickles as its path, head and device (`eval --workers`)."""

    path: Path
    head: str = "auto"
    device: str = "cpu"
    settings: tuple[str, ...] = ()  # "key=value" inference settings (`SGVLAPolicy`'s INFERENCE_SETTINGS)

    def __post_init__(self):
        choose("head", self.head, HEAD_CHOICES)

    @cached_property
    def model(self):
        import torch

        from hab_aux.train.policy import SGVLAPolicy, with_inference_settings
        from hab_aux.train.run_dir import latest_checkpoint

        if self.device == "cpu":
            # token decoding is many tiny ops: one thread measured ~70x faster than two on a busy 2-core
            # machine (14 ms vs 1.1 s per action); parallelism on CPU comes from processes
            torch.set_num_threads(1)
        model = SGVLAPolicy.from_checkpoint(latest_checkpoint(self.path), device=self.device).model
        return with_inference_settings(model, list(self.settings))

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "model"}

    def __call__(self, env, k: int, column: Column) -> Policy:
        from hab_aux.train.policy import SGVLAPolicy

        chosen = self.head
        if chosen == "auto":
            chosen = AUTO_HEAD[SUBTASKS[column.subtask].target] if self.model.flow is not None else "tokens"
        return SGVLAPolicy(self.model, head=chosen, seed=k)


def checkpoint_factory(path: Path, head: str = "auto", device: str = "cpu", settings: tuple[str, ...] = ()) -> CheckpointFactory:
    """Load the checkpoint now, so a bad path or setting fails before any simulation."""
    factory = CheckpointFactory(Path(path), head, device, tuple(settings))
    _ = factory.model
    return factory
