"""`MSHABSubtaskEnv`: MS-HAB's ReplicaCAD subtask envs behind `SubtaskEnv`'s numpy interface.

MS-HAB's `[Name]SubtaskTrain-v0` envs (registered by `import mshab.envs`) load one task plan file
and one spawn data file per split. Seeds map onto them as in the procedural world:
- the layout seeds' split range (`hab_aux.tasks.SPLIT_SEED_RANGES`) picks MS-HAB's train or val
  plans; the env for that split is built at the first reset that needs it;
- a layout seed picks a ReplicaCAD scene (build config) of that split, in order;
- (layout seed, episode seed) pick the task plan of that scene and one of its precomputed spawns.
The target is the plan's object (pick/place) or the articulation's handle link (open/close),
whose pose is MS-HAB's handle position on that link. Observations go through the same
`schema_observation` as the procedural world, plus MS-HAB's own flat `state` (`MSHAB_STATE`), which
its RL experts read (`mshab_rl.py`).

Generation keeps a success only if MS-HAB's event label of the episode is one that MS-HAB's own
data generation keeps (`KEPT_LABELS`, from `mshab/utils/gen/gen_data.py`), labelled by MS-HAB's
`get_episode_label_and_events` over the recorded steps (settle steps included, the reset not):
e.g. a pick must be a `straightforward_success` (contact, grasp, success, and nothing after).
MS-HAB labels its 200-step episodes whole; ours end `--settle-steps` after the success step.
"""

import gymnasium as gym
import numpy as np
import torch
from mani_skill.utils.common import flatten_state_dict

from hab_aux.errors import UserError
from hab_aux.generate.envs.mshab_check import check_mshab, spawn_data_path, task_plan_path
from hab_aux.generate.envs.mshab_checkpoints import ycb_id
from hab_aux.generate.envs.observation import schema_observation, to_numpy
from hab_aux.generate.envs.adapter import EnvAdapter
from hab_aux.generate.envs.wrapper import BACKENDS
from hab_aux.policy import EpisodeInfo
from hab_aux.tasks import SPLIT_SEED_RANGES, SUBTASKS, Target, check_num_envs, get_task

ENV_IDS = {"pick": "PickSubtaskTrain-v0", "place": "PlaceSubtaskTrain-v0",
           "open": "OpenSubtaskTrain-v0", "close": "CloseSubtaskTrain-v0"}  # fmt: skip
THIRD_PERSON_SIZE = 256  # as the procedural world's third-person camera
MSHAB_STATE = "mshab_state"  # observation key of MS-HAB's flat state (not a schema key: never recorded)
# Column (subtask, articulation) -> the event labels whose episodes MS-HAB's gen_data keeps
# (its SUBTASK_TO_EPISODE_LABELS; the drawer's plans are its "kitchen_counter").
KEPT_LABELS = {
    ("pick", None): ("straightforward_success",),
    ("place", None): ("placed_in_goal_success",),
    ("open", "fridge"): ("open_success",),
    ("open", "drawer"): ("open_success",),
    ("close", "fridge"): ("closed_success", "success_then_excessive_collisions"),
    ("close", "drawer"): ("closed_success",),
}


def ycb_category(obj_id: str) -> str:
    """MS-HAB object ids are '<YCB id>-<instance>', e.g. '013_apple-0' -> 'apple'."""
    return ycb_id(obj_id)[4:].replace("_", " ")


def mshab_state(obs: dict) -> np.ndarray:
    """MS-HAB's `state` observation (its FetchDepthObservationWrapper with cat_state=True): the agent's
    and then the task's observation, each flattened in its own key order, as float32 (K, D)."""
    parts = [flatten_state_dict(obs[part], use_torch=True).float() for part in ("agent", "extra")]
    return to_numpy(torch.cat(parts, dim=1)).astype(np.float32)


def split_of(layout_seeds: list[int]) -> str:
    """The one split whose seed range holds every layout seed."""
    splits = {next((name for name, (lo, hi) in SPLIT_SEED_RANGES.items() if lo <= s < hi), None) for s in layout_seeds}
    if len(splits) != 1 or None in splits:
        raise UserError(f"layout seeds {list(layout_seeds)} must all lie in one split's range {SPLIT_SEED_RANGES}")
    return splits.pop()


class MSHABSubtaskEnv(EnvAdapter):
    def __init__(self, task: str, subtask: str, articulation: str | None, sim_backend: str, num_envs: int, third_person: bool):
        columns = get_task(task).columns
        matches = [c for c in columns if (c.subtask, c.articulation) == (subtask, articulation)]
        if not matches:
            valid = ", ".join(f"{c.subtask}" + (f"/{c.articulation}" if c.articulation else "") for c in columns)
            raise UserError(f"{task} has no {subtask}{'/' + articulation if articulation else ''} column; valid: {valid}")
        self.column = matches[0]
        check_num_envs(num_envs, sim_backend)
        self._backends = BACKENDS[sim_backend]
        self.root = check_mshab(task, (self.column,), tuple(SPLIT_SEED_RANGES))
        import mshab.envs  # noqa: F401  registers MS-HAB's env ids with gymnasium

        self.task, self.subtask, self.articulation = task, subtask, articulation
        self.num_envs, self.third_person = num_envs, third_person
        self.split: str | None = None
        self._env = None
        self._history: list[tuple[np.ndarray, dict]] = []  # (success, info) of each step since the reset

    @property
    def unwrapped(self):
        if self._env is None:
            raise RuntimeError("the MS-HAB env is built at the first reset (its split comes from the layout seeds)")
        return self._env.unwrapped

    def _build(self, split: str) -> None:
        from mshab.envs.planner import plan_data_from_file

        if self._env is not None:
            self._env.close()
        plan_data = plan_data_from_file(task_plan_path(self.root, self.task, self.column, split))
        sim, render = self._backends
        self._env = gym.make(
            ENV_IDS[self.subtask], num_envs=self.num_envs, robot_uids="fetch", obs_mode="rgb+depth+segmentation",
            control_mode="pd_joint_delta_pos", sim_backend=sim, render_backend=render,
            render_mode="rgb_array" if self.third_person else None, sensor_configs=dict(width=128, height=128),
            human_render_camera_configs=dict(width=THIRD_PERSON_SIZE, height=THIRD_PERSON_SIZE),
            task_plans=plan_data.plans, scene_builder_cls=plan_data.dataset,
            spawn_data_fp=spawn_data_path(self.root, self.task, self.column, split),
            require_build_configs_repeated_equally_across_envs=False,
            add_event_tracker_info=True,  # the per-step infos MS-HAB's episode labels read
            reconfiguration_freq=0,  # rebuild only when the layout seeds change the scenes (ManiSkill: every reset for one env)
        )  # fmt: skip
        self.split = split

    def reset(self, layout_seeds: list[int], episode_seeds: list[int]) -> tuple[dict[str, np.ndarray], list[EpisodeInfo]]:
        if len(layout_seeds) != self.num_envs or len(episode_seeds) != self.num_envs:
            raise UserError(f"need {self.num_envs} layout and episode seeds, got {len(layout_seeds)} and {len(episode_seeds)}")
        split = split_of(layout_seeds)
        if split != self.split:
            self._build(split)
        env = self.unwrapped
        scenes = sorted(env.build_config_idx_to_task_plans)
        start = SPLIT_SEED_RANGES[split][0]
        build_configs = [scenes[(int(ls) - start) % len(scenes)] for ls in layout_seeds]
        plan_idxs, spawn_idxs = [], []
        for ls, es, bci in zip(layout_seeds, episode_seeds, build_configs):
            rng = np.random.default_rng([int(ls), int(es)])
            plans = env.build_config_idx_to_task_plans[bci]
            plan_idxs.append(int(rng.integers(len(plans))))
            spawns = env.spawn_data[plans[plan_idxs[-1]].subtasks[0].uid]
            spawn_idxs.append(int(rng.integers(len(next(iter(spawns.values()))))))
        options = dict(reconfigure=build_configs != list(env.build_config_idxs), build_config_idxs=build_configs,
                       task_plan_idxs=torch.tensor(plan_idxs, dtype=torch.int), spawn_selection_idxs=spawn_idxs)  # fmt: skip
        obs, _ = self._env.reset(seed=[int(s) for s in episode_seeds], options=options)
        self._history = []
        plans = [env.build_config_idx_to_task_plans[b][t].subtasks[0] for b, t in zip(build_configs, plan_idxs)]
        infos = [self._episode_info(p, int(ls), int(es)) for p, ls, es in zip(plans, layout_seeds, episode_seeds)]
        return self._observation(obs), infos

    def _episode_info(self, plan, layout_seed: int, episode_seed: int) -> EpisodeInfo:
        if SUBTASKS[self.subtask].target is Target.HANDLE:
            name, category = plan.articulation_id, self.articulation
        else:
            name, category = plan.obj_id, ycb_category(plan.obj_id)
        instruction = SUBTASKS[self.subtask].instruction(category)  # MS-HAB's plans name no goal receptacle
        return EpisodeInfo(self.task, self.subtask, name, category, instruction, layout_seed, episode_seed)

    def step(self, actions: np.ndarray):
        obs, result = super().step(actions)
        self._history.append((result.success, result.info))
        return obs, result

    def rejects(self, k: int, steps: int) -> str:
        """MS-HAB's keep rule (module docstring) on the first `steps` steps of sub-env k's episode."""
        from mshab.utils.label_dataset import get_episode_label_and_events

        history = self._history[:steps]
        success = np.array([s[k] for s, _ in history])
        infos = {key: np.stack([info[key][k] for _, info in history]) for key in history[0][1]}
        label, _, _ = get_episode_label_and_events(self.unwrapped.task_cfgs, success, infos)
        kept = KEPT_LABELS[(self.subtask, self.articulation)]
        return "" if label in kept else f"MS-HAB label {label} (its data generation keeps {', '.join(kept)})"

    def _collided(self, info: dict) -> np.ndarray:
        return ~to_numpy(info["cumulative_force_within_limit"]).astype(bool)

    def _observation(self, obs: dict) -> dict[str, np.ndarray]:
        env = self.unwrapped
        if SUBTASKS[self.subtask].target is Target.HANDLE:
            plan = env.task_plan[0]
            target = env.subtask_articulations[0].links[plan.articulation_handle_link_idx]
            target_pose = target.pose * plan.articulation_relative_handle_pos
        else:
            target = env.subtask_objs[0]
            target_pose = target.pose
        grasped = env.agent.is_grasping(target, max_angle=30)  # MS-HAB's own flag is for its subtask's object
        return {**schema_observation(obs, env.agent, target, target_pose, grasped), MSHAB_STATE: mshab_state(obs)}


def make_mshab_env(task: str, subtask: str, articulation: str | None = None, *, sim_backend: str = "cpu",
                   num_envs: int = 1, third_person: bool = False) -> MSHABSubtaskEnv:  # fmt: skip
    """Fails with a one-line UserError, before making anything, when MS-HAB's code or assets are missing."""
    return MSHABSubtaskEnv(task, subtask, articulation, sim_backend, num_envs, third_person)
