"""Subtask environments (pick, place, open, close) in procedural homes, behind a numpy wrapper.

    env = make_subtask_env("SetTable", "open", "fridge")        # sim_backend="cpu" | "gpu"
    obs, infos = env.reset(layout_seeds=[3], episode_seeds=[0])  # schema step keys, leading env axis
    obs, result = env.step(actions)                              # (K, 13) in [-1, 1]

What privileged experts find on `env.unwrapped` (a `HabAuxSubtaskEnv`), per sub-scene i:
- `plans[i]`: the `EpisodePlan` (target, goal position for place, spawn, initial joint fractions);
- `homes[i]`: the built world (`layout`, `objects` by name, `counter`/`fridge` articulations,
  static furniture); `homes[i].layout.furniture[name]` has its pose and size;
- `target`: merged view of the target object (pick/place) or handle link (open/close);
  `target_art`: the fridge or counter articulation (open/close), its joint is `qpos[:, 0]`;
- `goal_pos` (K, 3), `cumulative_force` (K,), `rest_tcp_in_base` (3,), module constant `REST_QPOS`;
- `agent` (ManiSkill's Fetch: `robot`, `tcp`, `base_link`, `is_grasping`).

`make_mshab_env` gives the same interface over MS-HAB's ReplicaCAD envs (its code and assets needed).
"""

from hab_aux.generate.envs.mshab import make_mshab_env
from hab_aux.generate.envs.adapter import StepResult
from hab_aux.generate.envs.wrapper import SubtaskEnv, make_subtask_env

# `--world`: which env factory (same signature, same interface) a run uses.
MAKE_ENV = {"procedural": make_subtask_env, "mshab": make_mshab_env}

__all__ = ["MAKE_ENV", "StepResult", "SubtaskEnv", "make_mshab_env", "make_subtask_env"]
