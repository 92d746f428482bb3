"""Re-simulate a recorded episode from its seeds with its recorded actions, and compare.

The recorded actions are the policy's clean ones; with `action_noise` the env executed them plus
noise, which is redrawn here from the episode seed exactly as `hab_aux.rollout.run_batch` drew it
(one draw per step before success, none on settle steps). The CPU simulator is deterministic, so
every observation and label should come back bit for bit.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from hab_aux import schema
from hab_aux.rollout import executed_action, noise_rng
from hab_aux.tasks import SUBTASKS, Target


@dataclass(frozen=True)
class ReplayReport:
    episode: int
    max_abs_diff: dict[str, float]  # per recorded step key the env reports (observations and labels)
    recorded_success_step: int
    replayed_success_step: int  # the first step the rule held in the replay (-1: never)

    @property
    def matches(self) -> bool:
        return all(d == 0 for d in self.max_abs_diff.values()) and self.recorded_success_step == self.replayed_success_step


def replay_episode(path: Path, index: int, sim_backend: str = "cpu") -> ReplayReport:
    from hab_aux.generate.envs import MAKE_ENV
    from hab_aux.store import open_dataset

    dataset = open_dataset(path)
    meta = dataset.episode_meta(index)
    index %= dataset.num_episodes
    steps = dataset.episode(index)
    articulation = meta["target_category"] if SUBTASKS[meta["subtask"]].target is Target.HANDLE else None
    world = dataset.episode_generation(index).get("config", {}).get("world", "procedural")
    env = MAKE_ENV[world](meta["task"], meta["subtask"], articulation, sim_backend=sim_backend, num_envs=1)
    try:
        obs, _ = env.reset([meta["layout_seed"]], [meta["episode_seed"]])
        compared = [k for k in schema.STEP_KEYS if k in obs]
        diffs = dict.fromkeys(compared, 0.0)
        rng, sigma, success_step = noise_rng(meta["episode_seed"]), meta["action_noise"], -1
        for t in range(meta["length"]):
            for key in compared:
                d = np.abs(np.asarray(obs[key][0], np.float64) - np.asarray(steps[key][t], np.float64)).max(initial=0.0)
                diffs[key] = max(diffs[key], float(d))
            clean = steps["action"][t]
            executed = executed_action(clean, sigma, rng, settling=bool(steps["after_success"][t]))
            obs, outcome = env.step(executed[None])
            if success_step < 0 and bool(outcome.success[0]):
                success_step = t + 1
    finally:
        env.close()
    return ReplayReport(index, diffs, int(meta["success_step"]), success_step)


def replay_table(report: ReplayReport) -> Table:
    verdict = "matches" if report.matches else "DIFFERS"
    table = Table(title=f"replay of episode {report.episode}: {verdict} (success step: recorded "
                        f"{report.recorded_success_step}, replayed {report.replayed_success_step})")  # fmt: skip
    table.add_column("key")
    table.add_column("max abs difference", justify="right")
    for key, d in report.max_abs_diff.items():
        table.add_row(key, f"{d:g}")
    return table
