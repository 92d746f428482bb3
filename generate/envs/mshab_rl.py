"""`--policy mshab-rl`: MS-HAB's own RL experts, one per task, subtask and object, acting on
MS-HAB's envs through our `Policy` interface. Follows MS-HAB's `mshab/utils/gen/gen_data.py`:

- the agent is MS-HAB's class from the user's install (`mshab.agents.ppo.Agent` or
  `mshab.agents.sac.agent.Agent`), built as gen_data builds it, in eval mode, its weights the
  `agent` entry of policy.pt;
- it sees MS-HAB's observation as gen_data's env wrappers make it (FetchDepthObservationWrapper,
  then FrameStack of 3): `state`, the flat agent + task state (`mshab.MSHAB_STATE`), and `pixels`,
  each camera's depth in mm as float, (1, 3, 1, H, W) oldest frame first, the reset frame repeated
  3 times at the first step. Our schema depth is MS-HAB's depth (both mm, never negative);
- its action is deterministic: PPO's `get_action(deterministic=True)`, SAC's actor mean (tanh-
  squashed); the head joints are zeroed, as FetchActionWrapper(stationary_head=True) does, and the
  env clips to [-1, 1] as ManiSkill's controller does.

Not run against real checkpoints here (MS-HAB's assets cannot be downloaded on these machines):
the tests use fake agent classes in a fake `mshab` package.
"""

from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from hab_aux.generate.envs.mshab import MSHAB_STATE
from hab_aux.generate.envs.mshab_checkpoints import Checkpoint, checkpoint_object, find_checkpoint
from hab_aux.generate.policies import MSHAB_RL
from hab_aux.policy import EpisodeInfo, Observation
from hab_aux.schema import ACTION_DIM, ACTION_NAMES
from hab_aux.tasks import Column

FRAME_STACK = 3  # gen_data's EnvConfig default
# MS-HAB's pixel keys, in the order its FrameStack adds them -> our schema's depth keys
DEPTH_KEYS = {"fetch_head_depth": "head_depth", "fetch_hand_depth": "hand_depth"}
STILL = [ACTION_NAMES.index("head_pan"), ACTION_NAMES.index("head_tilt")]
Act = Callable[[dict], np.ndarray]  # MS-HAB observation (batch of 1) -> action (ACTION_DIM,)


def _ppo(checkpoint: Checkpoint, sample: dict, device: torch.device):
    from mshab.agents.ppo import Agent

    agent = Agent(sample, (ACTION_DIM,))
    return agent, lambda obs: agent.get_action(obs, deterministic=True)


def _sac(checkpoint: Checkpoint, sample: dict, device: torch.device):
    from gymnasium import spaces
    from mshab.agents.sac.agent import Agent

    # gen_data gives SAC each camera's frames merged into channels: (stack, 1, H, W) -> (stack, H, W)
    pixels = spaces.Dict({key: spaces.Box(-np.inf, np.inf, (v.shape[1] * v.shape[2], *v.shape[3:]), np.float32)
                          for key, v in sample["pixels"].items()})  # fmt: skip
    agent = Agent(pixels, tuple(sample["state"].shape[1:]), (ACTION_DIM,), **checkpoint.sizes, device=device)
    return agent, lambda obs: agent.actor(obs["pixels"], obs["state"], compute_pi=False, compute_log_pi=False)[0]


AGENTS = {"ppo": _ppo, "sac": _sac}


def load_agent(checkpoint: Checkpoint, sample: dict, device: torch.device) -> Act:
    """MS-HAB's agent for `checkpoint`, sized from `sample` (an observation) and config.yml."""
    agent, act = AGENTS[checkpoint.algo](checkpoint, sample, device)
    agent.eval()
    agent.load_state_dict(torch.load(checkpoint.weights, map_location=device, weights_only=True)["agent"])
    agent.to(device)

    def action(obs: dict) -> np.ndarray:
        with torch.no_grad():
            return act(_to(obs, device))[0].cpu().numpy().astype(np.float32)

    return action


def _to(obs, device: torch.device):
    return {k: _to(v, device) for k, v in obs.items()} if isinstance(obs, dict) else obs.to(device)


class FrameStack:
    """MS-HAB's observation from our per-step observations of one episode."""

    def __init__(self):
        self.frames = {key: deque(maxlen=FRAME_STACK) for key in DEPTH_KEYS}

    def clear(self) -> None:
        for frames in self.frames.values():
            frames.clear()

    def __call__(self, observation: Observation) -> dict:
        for key, depth_key in DEPTH_KEYS.items():
            frame = torch.from_numpy(np.asarray(observation[depth_key], np.float32)).permute(2, 0, 1)  # (1, H, W)
            self.frames[key].extend([frame] * (FRAME_STACK if not self.frames[key] else 1))
        pixels = {key: torch.stack(tuple(frames))[None] for key, frames in self.frames.items()}
        return {"state": torch.from_numpy(np.asarray(observation[MSHAB_STATE], np.float32))[None], "pixels": pixels}


class MSHABRLPolicy:
    """Acts with the checkpoint of each episode's task, subtask and object. Its name, once an
    episode has begun, names that checkpoint: the recorder stores it per episode (`expert`)."""

    name = MSHAB_RL

    def __init__(self, factory: "MSHABRLFactory", column: Column):
        self.factory, self.column = factory, column
        self.frames = FrameStack()
        self.checkpoint: Checkpoint | None = None

    def reset(self, episode: EpisodeInfo) -> None:
        obj = checkpoint_object(self.column, episode.target_name)
        self.checkpoint = find_checkpoint(self.factory.root, episode.task, episode.subtask, obj)
        self.name = f"{MSHAB_RL} {self.checkpoint.algo} {self.checkpoint.folder}"
        self.frames.clear()

    def select_action(self, observation: Observation, instruction: str) -> np.ndarray:
        obs = self.frames(observation)
        action = self.factory.agent(self.checkpoint, obs)(obs)
        action[STILL] = 0.0
        return action


class MSHABRLFactory:
    """A `PolicyFactory`: each checkpoint is loaded once per process, at its first episode (MS-HAB's
    PPO agent is sized by an observation). It pickles as its folder (`eval --workers`)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        # gen_data's choice; the agents are small CNNs
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._agents: dict[Path, Act] = {}

    def __getstate__(self) -> dict:
        return {"root": self.root}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["root"])

    def __call__(self, env, k: int, column: Column) -> MSHABRLPolicy:
        return MSHABRLPolicy(self, column)

    def agent(self, checkpoint: Checkpoint, sample: dict) -> Act:
        if checkpoint.folder not in self._agents:
            self._agents[checkpoint.folder] = load_agent(checkpoint, sample, self.device)
        return self._agents[checkpoint.folder]
