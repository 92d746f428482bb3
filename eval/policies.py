"""Build policies by name for the eval harness."""

from collections.abc import Callable

from hab_aux.errors import choose
from hab_aux.policy import Policy, RandomPolicy, ZeroPolicy


def _expert(env, seed: int) -> Policy:
    from hab_aux.generate.experts import make_expert  # needs the simulator

    return make_expert(env, seed=seed)


# Each factory takes (env, sub-env index) and returns a fresh policy instance.
POLICY_FACTORIES: dict[str, Callable[[object, int], Policy]] = {
    "random": lambda env, k: RandomPolicy(seed=k),
    "zero": lambda env, k: ZeroPolicy(),
    "expert": lambda env, k: _expert(env, k),
}


def policy_factory(name: str) -> Callable[[object, int], Policy]:
    return POLICY_FACTORIES[choose("policy", name, POLICY_FACTORIES)]
