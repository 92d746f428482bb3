"""A fake MS-HAB for the `--world mshab` tests: the attributes our adapter reads on its subtask
envs, its PPO and SAC agent classes, its episode labeller, and checkpoints on disk, each as read
from MS-HAB's source (arth-shukla/mshab). MS-HAB's real code and assets are not used here.
"""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import yaml
from mani_skill.utils.structs import Pose

from hab_aux.schema import ACTION_DIM, CAMERAS, IMAGE_SIZE

MSHAB_ASSETS = ("assets/mani_skill2_ycb", "scene_datasets/replica_cad_dataset/configs/scenes")
SAC_CONFIG = {
    "name": "sac", "actor_hidden_dims": [64, 32], "critic_hidden_dims": [48], "critic_layer_norm": True,
    "critic_dropout": None, "encoder_pixels_feature_dim": 20, "encoder_state_feature_dim": 10,
    "cnn_features": [8, 16], "cnn_filters": [3, 3], "cnn_strides": [2, 2], "cnn_padding": "valid",
    "actor_log_std_min": -20, "actor_log_std_max": 2, "critic_lr": "3e-4",
}  # fmt: skip
STATE_DIM = 12 + 12 + 7 + 1  # agent qpos, qvel; extra tcp pose, is_grasped


def habaux(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "hab_aux", *args], capture_output=True, text=True, env=env, cwd=cwd)


def one_line_error(done) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def write_assets(root: Path, task_dir: str, subtask: str, split: str, plan_files: tuple[str, ...]) -> None:
    """Every asset folder `check_mshab` asks for, with the plan and spawn files of one column."""
    for folder in MSHAB_ASSETS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    rearrange = root / "scene_datasets" / "replica_cad_dataset" / "rearrange"
    for kind, names in (("task_plans", plan_files), ("spawn_data", ("spawn_data.pt",))):
        folder = rearrange / kind / task_dir / subtask / split
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            (folder / name).write_text("{}")


class FakeLink:
    def __init__(self, pose, per_scene_id=None):
        self.pose, self.per_scene_id = pose, per_scene_id


class FakeFetch:
    def __init__(self, base, tcp, qpos, grasping):
        self.base_link, self.tcp = FakeLink(base), FakeLink(tcp)
        self.robot = type("Robot", (), {"get_qpos": lambda _: qpos})()
        self.grasping, self.asked = grasping, []

    def is_grasping(self, target, max_angle):
        self.asked.append((target, max_angle))
        return self.grasping


def yaw_pose(x, y, z, yaw):
    q = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
    return Pose.create_from_pq(p=torch.tensor([[x, y, z]]), q=torch.tensor([q]))


def fetch_observation(target_id: int, t: int = 0) -> dict:
    """What MS-HAB's env returns at step t: both cameras (depth 100 t + 10 + camera index, in mm),
    and its `agent` and `extra` state, which change with t."""
    s = IMAGE_SIZE
    seg = torch.zeros((1, s, s, 1), dtype=torch.int16)
    seg[0, :4, :4] = target_id
    sensors = {f"fetch_{cam}": {"rgb": torch.zeros((1, s, s, 3), dtype=torch.uint8), "segmentation": seg,
                                "depth": torch.full((1, s, s, 1), 100 * t + 10 + i, dtype=torch.int16)}
               for i, cam in enumerate(CAMERAS)}  # fmt: skip
    agent = {"qpos": torch.full((1, 12), float(t)), "qvel": torch.full((1, 12), -float(t))}
    extra = {"tcp_pose_wrt_base": torch.arange(7.0)[None] + t, "is_grasped": torch.tensor([t % 2 == 1])}
    return {"agent": agent, "extra": extra, "sensor_data": sensors}


def expected_state(t: int) -> np.ndarray:
    """MS-HAB's flat state of `fetch_observation(., t)`: agent then extra, each in key order."""
    return np.concatenate([[t] * 12, [-t] * 12, np.arange(7.0) + t, [t % 2]]).astype(np.float32)


class FakeMSHABEnv:
    """The attributes the adapter reads on MS-HAB's `[Name]SubtaskTrain-v0` (sequential_task.py,
    subtask.py): scenes 3 and 5 of the split (plans[:2] and plans[2:]), four spawns per plan.
    A step succeeds from step `success_from` on; `collide` reports the force limit exceeded."""

    device = "cpu"
    task_cfgs = {"pick": "pick config", "place": "place config", "open": "open config", "close": "close config"}

    def __init__(self, make_kwargs, plans, success_from=1, collide=True):
        self.make_kwargs, self.resets, self.actions = make_kwargs, [], []
        self.success_from, self.collide, self.t = success_from, collide, 0
        self.build_config_idx_to_task_plans = {5: plans[2:], 3: plans[:2]}
        self.build_config_idxs = [3]
        self.spawn_data = {p.subtasks[0].uid: {"robot_pos": torch.zeros(4, 3), "robot_qpos": torch.zeros(4, 15)} for p in plans}
        self.agent = FakeFetch(yaw_pose(0, 0, 0, 0), yaw_pose(0.5, 0, 1.2, 0), torch.zeros((1, 15)), torch.tensor([False]))
        handle = FakeLink(yaw_pose(2.0, 0.0, 0.0, 0.0), torch.tensor([9]))
        self.subtask_articulations = [SimpleNamespace(links=[None, handle])]
        self.subtask_objs = [FakeLink(yaw_pose(1.0, 0.0, 0.5, 0.0), torch.tensor([9]))]
        self.task_plan = [SimpleNamespace(articulation_handle_link_idx=1, articulation_relative_handle_pos=yaw_pose(0.1, 0.2, 1.0, 0))]
        self.unwrapped = self

    def reset(self, seed, options):
        self.resets.append((seed, options))
        if options["reconfigure"]:
            self.build_config_idxs = list(options["build_config_idxs"])
        self.t = 0
        return fetch_observation(9, self.t), {}

    def step(self, action):
        self.actions.append(action.numpy().copy())
        self.t += 1
        info = {"success": torch.tensor([self.t >= self.success_from]), "cumulative_force_within_limit": torch.tensor([not self.collide]),
                "elapsed_steps": torch.tensor([self.t]), "articulation_open": torch.tensor([True]),
                "robot_force": torch.tensor([0.5 * self.t])}  # fmt: skip
        return fetch_observation(9, self.t), 0.0, False, False, info

    def close(self):
        pass


def pick_plans(*obj_ids: str) -> list:
    return [SimpleNamespace(subtasks=[SimpleNamespace(uid=f"pick_{i}", obj_id=obj)]) for i, obj in enumerate(obj_ids)]


class FakeAgents:
    """MS-HAB's PPO and SAC agent classes as gen_data.py calls them. They record how they are built
    and what they are asked; their action is a weight loaded from policy.pt."""

    def __init__(self):
        self.built: list[tuple[str, dict]] = []
        self.asked: list[tuple[str, dict, dict]] = []
        log = self

        class PPOAgent(torch.nn.Module):  # mshab.agents.ppo.Agent
            def __init__(self, sample_obs, single_act_shape):
                super().__init__()
                log.built.append(("ppo", {"sample_obs": sample_obs, "single_act_shape": single_act_shape}))
                self.actor_mean = torch.nn.Linear(1, ACTION_DIM)

            def get_action(self, x, deterministic=False):
                log.asked.append(("ppo", x, {"deterministic": deterministic}))
                return self.actor_mean.bias.expand(x["state"].shape[0], ACTION_DIM)

        class Actor(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.mu = torch.nn.Parameter(torch.zeros(ACTION_DIM))

            def forward(self, pixels, state, compute_pi=True, compute_log_pi=True):
                log.asked.append(("sac", {"pixels": pixels, "state": state}, {"compute_pi": compute_pi, "compute_log_pi": compute_log_pi}))
                mu = torch.tanh(self.mu).expand(state.shape[0], ACTION_DIM)
                return mu, mu + 5.0, None, None  # a sampled pi differs from the mean

        class SACAgent(torch.nn.Module):  # mshab.agents.sac.agent.Agent
            def __init__(self, pixels_obs_space, state_obs_shape, action_shape, **kwargs):
                super().__init__()
                log.built.append(("sac", {"pixels_obs_space": pixels_obs_space, "state_obs_shape": state_obs_shape,
                                          "action_shape": action_shape, **kwargs}))  # fmt: skip
                self.actor = Actor()

        self.PPOAgent, self.SACAgent = PPOAgent, SACAgent


def write_checkpoint(root: Path, relative: str, algo: str, weights: np.ndarray) -> Path:
    """config.yml and policy.pt as MS-HAB's training scripts save them ({"agent": state_dict, ...})."""
    folder = root / "rl" / relative
    folder.mkdir(parents=True)
    config = {"seed": 0, "env": {"frame_stack": 3}, "algo": SAC_CONFIG if algo == "sac" else {"name": algo, "gamma": 0.9}}
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    weights = torch.tensor(weights, dtype=torch.float32)
    agent = {"actor.mu": weights} if algo == "sac" else {"actor_mean.weight": torch.zeros(ACTION_DIM, 1), "actor_mean.bias": weights}
    torch.save({"agent": agent, "optimizer": {"state": {}, "param_groups": []}}, folder / "policy.pt")
    return folder


class FakeLabeller:
    """`get_episode_label_and_events`: returns the queued labels in turn, then `default`."""

    def __init__(self, *queued: str, default: str = "straightforward_success"):
        self.queued, self.default, self.calls = list(queued), default, []

    def __call__(self, task_cfgs, ep_success, ep_infos):
        self.calls.append((task_cfgs, ep_success, ep_infos))
        return (self.queued.pop(0) if self.queued else self.default), [], []


def install_fake_mshab(monkeypatch, root: Path, plans: list, agents=None, labeller=None, **env_options) -> list:
    """Fake MS-HAB modules and env behind `make_mshab_env` (assets at `root`); returns the made envs."""
    import hab_aux.generate.envs.mshab as mshab_env

    planner = SimpleNamespace(plan_data_from_file=lambda path: SimpleNamespace(plans=plans, dataset="RCAD"))
    agents = agents or FakeAgents()
    modules = {
        "mshab": SimpleNamespace(), "mshab.envs": SimpleNamespace(planner=planner), "mshab.envs.planner": planner,
        "mshab.agents.ppo": SimpleNamespace(Agent=agents.PPOAgent), "mshab.agents.sac.agent": SimpleNamespace(Agent=agents.SACAgent),
        "mshab.utils.label_dataset": SimpleNamespace(get_episode_label_and_events=labeller or FakeLabeller()),
    }  # fmt: skip
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    made = []
    monkeypatch.setattr(mshab_env, "check_mshab", lambda task, columns, splits: root)
    monkeypatch.setattr(mshab_env.gym, "make", lambda env_id, **kw: made.append(FakeMSHABEnv(kw, plans, **env_options)) or made[-1])
    return made
