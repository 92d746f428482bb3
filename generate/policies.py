"""Scripted policies by name, for the dataset generator and the eval harness: random, zero,
release and the privileged expert.

A factory takes (env, sub-env index k, column) and returns a fresh policy for sub-env k.
"""

from collections.abc import Callable

from hab_aux.errors import choose
from hab_aux.policy import Policy, RandomPolicy, ReleasePolicy, ZeroPolicy
from hab_aux.tasks import Column

PolicyFactory = Callable[[object, int, Column], Policy]


def _expert(env, k: int, column: Column) -> Policy:
    from hab_aux.generate.experts import make_expert  # needs the simulator

    return make_expert(env, seed=k)


def _random(env, k: int, column: Column) -> Policy:
    return RandomPolicy(seed=k)


def _zero(env, k: int, column: Column) -> Policy:
    return ZeroPolicy()


def _release(env, k: int, column: Column) -> Policy:
    return ReleasePolicy()


# Module-level functions, not lambdas: `eval --workers` sends factories to other processes.
POLICY_FACTORIES: dict[str, PolicyFactory] = {"random": _random, "zero": _zero, "release": _release, "expert": _expert}


def policy_factory(name: str) -> PolicyFactory:
    return POLICY_FACTORIES[choose("policy", name, POLICY_FACTORIES)]
