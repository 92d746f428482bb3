"""Policies by name, for the dataset generator and the eval harness: random, zero, release, the
privileged expert, `expert-mid` (the expert with its per-episode choices fixed at their middle,
`Expert.draw`), and `mshab-rl` (MS-HAB's RL checkpoints on MS-HAB's envs: `envs/mshab_rl.py`).

A factory takes (env, sub-env index k, column) and returns a fresh policy for sub-env k.
"""

from collections.abc import Callable
from pathlib import Path

from hab_aux.errors import UserError, choose
from hab_aux.policy import Policy, RandomPolicy, ReleasePolicy, ZeroPolicy
from hab_aux.tasks import Column

PolicyFactory = Callable[[object, int, Column], Policy]
MSHAB_RL = "mshab-rl"


def _expert(env, k: int, column: Column) -> Policy:
    from hab_aux.generate.experts import make_expert  # needs the simulator

    return make_expert(env, seed=k)


def _expert_mid(env, k: int, column: Column) -> Policy:
    from hab_aux.generate.experts import make_expert

    return make_expert(env, seed=k, vary=False)


def _random(env, k: int, column: Column) -> Policy:
    return RandomPolicy(seed=k)


def _zero(env, k: int, column: Column) -> Policy:
    return ZeroPolicy()


def _release(env, k: int, column: Column) -> Policy:
    return ReleasePolicy()


# Module-level functions, not lambdas: `eval --workers` sends factories to other processes.
POLICY_FACTORIES: dict[str, PolicyFactory] = {"random": _random, "zero": _zero, "release": _release, "expert": _expert,
                                               "expert-mid": _expert_mid}
POLICY_NAMES = (*POLICY_FACTORIES, MSHAB_RL)
EXPERT_POLICIES = ("expert", "expert-mid")  # the scripted experts: they plan from the procedural world's state


def policy_factory(name: str, mshab_checkpoints: str | Path | None = None) -> PolicyFactory:
    """`mshab_checkpoints`: the folder `mshab-rl` reads (`mshab_checkpoints.checkpoints_root`)."""
    if choose("policy", name, POLICY_NAMES) == MSHAB_RL:
        from hab_aux.generate.envs.mshab_checkpoints import checkpoints_root
        from hab_aux.generate.envs.mshab_rl import MSHABRLFactory  # needs the simulator and torch

        return MSHABRLFactory(checkpoints_root(mshab_checkpoints))
    return POLICY_FACTORIES[name]


def check_policies(names: list[str], world: str, task: str, columns: tuple[Column, ...], splits: tuple[str, ...],
                   mshab_checkpoints: str | Path | None) -> str | None:  # fmt: skip
    """Check, before anything loads, what the policies and `--world` need; return the absolute
    checkpoints folder that `mshab-rl` reads, or None when no policy reads one."""
    for name in names:
        choose("policy", name, POLICY_NAMES)
    if world == "mshab":
        from hab_aux.generate.envs.mshab_check import check_mshab, require_non_expert

        check_mshab(task, columns, splits)
        require_non_expert(names)
    elif MSHAB_RL in names:
        raise UserError(f"--policy {MSHAB_RL} rolls out MS-HAB's RL checkpoints on MS-HAB's envs: add --world mshab")
    if MSHAB_RL not in names:
        if mshab_checkpoints is not None:
            raise UserError(f"--mshab-checkpoints is read only by --policy {MSHAB_RL}")
        return None
    from hab_aux.generate.envs.mshab_checkpoints import check_checkpoints, checkpoints_root

    root = checkpoints_root(mshab_checkpoints)
    check_checkpoints(root, task, columns)
    return str(root)
