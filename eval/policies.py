"""Build policies by name (or from a checkpoint) for the eval harness and the dataset generator.

A factory takes (env, sub-env index k, column) and returns a fresh policy for sub-env k; the
column lets a checkpoint pick its head per subtask.
"""

from collections.abc import Callable
from pathlib import Path

from hab_aux.errors import choose
from hab_aux.policy import Policy, RandomPolicy, ReleasePolicy, ZeroPolicy
from hab_aux.tasks import Column

PolicyFactory = Callable[[object, int, Column], Policy]
HEAD_CHOICES = ("auto", "tokens", "flow")
# The paper's task-adaptive choice: continuous actions for manipulation, tokens for mobility-heavy subtasks.
AUTO_HEAD = {"pick": "flow", "place": "flow", "open": "tokens", "close": "tokens"}


def _expert(env, k: int, column: Column) -> Policy:
    from hab_aux.generate.experts import make_expert  # needs the simulator

    return make_expert(env, seed=k)


POLICY_FACTORIES: dict[str, PolicyFactory] = {
    "random": lambda env, k, column: RandomPolicy(seed=k),
    "zero": lambda env, k, column: ZeroPolicy(),
    "release": lambda env, k, column: ReleasePolicy(),
    "expert": _expert,
}


def policy_factory(name: str) -> PolicyFactory:
    return POLICY_FACTORIES[choose("policy", name, POLICY_FACTORIES)]


def checkpoint_factory(path: Path, head: str = "auto", device: str = "cpu") -> PolicyFactory:
    """Load a trained SG-VLA once; each call wraps it in a policy with the head for that column."""
    choose("head", head, HEAD_CHOICES)
    import torch

    from hab_aux.train.policy import SGVLAPolicy
    from hab_aux.train.run_dir import latest_checkpoint

    if device == "cpu":
        # token decoding is many tiny ops: one thread measured ~70x faster than two on a busy 2-core
        # machine (14 ms vs 1.1 s per action); parallelism on CPU comes from processes
        torch.set_num_threads(1)
    model = SGVLAPolicy.from_checkpoint(latest_checkpoint(path), device=device).model

    def make(env, k: int, column: Column) -> Policy:
        chosen = head
        if head == "auto":
            chosen = AUTO_HEAD[column.subtask] if model.flow is not None else "tokens"
        return SGVLAPolicy(model, head=chosen, seed=k)

    return make
