"""`SGVLAPolicy`: a trained SG-VLA checkpoint behind the `hab_aux.policy.Policy` protocol.

head="tokens": greedy action tokens for a chunk of `action.chunk` actions (13 tokens each); the
first `action.execute` are queued and executed, then it re-plans, or with `action.temporal_ensemble`
it predicts every step and executes the ensembled action (`temporal_ensemble.py`). head="flow": the
same with the expert's chunk of `flow.chunk` actions and the `flow.` settings (integrated from noise, or
regressed in one pass with flow.objective=l1).
`INFERENCE_SETTINGS` change only how predictions become actions, so `habaux eval --set` may change
them on a trained checkpoint (`with_inference_settings`).
History (inputs.history = k): the last k+1 observations are kept; at the start of an episode the
first observation is repeated to fill the window. Actions are denormalised and clipped to [-1, 1].
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
import torch

from hab_aux.errors import UserError, choose
from hab_aux.policy import EpisodeInfo, Observation
from hab_aux.schema import ACTION_DIM
from hab_aux.train.model.action_tokenizer import ActionBins
from hab_aux.train.model.build import make_processor
from hab_aux.train.model.modeling_sgvla import SGVLAModel
from hab_aux.train.model.processor import PROPRIO_KEY, proprio_of
from hab_aux.train.temporal_ensemble import TemporalEnsemble

HEADS = ("tokens", "flow")
INFERENCE_SETTINGS = ("action.execute", "action.temporal_ensemble", "action.ensemble_decay",
                      "flow.execute", "flow.temporal_ensemble", "flow.ensemble_decay", "flow.steps")  # fmt: skip


def with_inference_settings(model: SGVLAModel, assignments: list[str]) -> SGVLAModel:
    """The model with "key=value" `INFERENCE_SETTINGS` changed in its config (validated as in training)."""
    from hab_aux.train.presets import override

    for item in assignments:
        key = item.split("=", 1)[0].strip()
        if key not in INFERENCE_SETTINGS:
            raise UserError(f"--set {item!r}: only inference settings can change on a trained checkpoint: {', '.join(INFERENCE_SETTINGS)}")
    model.config = override(model.config, assignments)
    return model


class SGVLAPolicy:
    def __init__(self, model: SGVLAModel, head: str = "tokens", seed: int = 0):
        choose("head", head, HEADS)
        if model.stats is None:
            raise UserError("the model has no action normalisation stats (ActionStats); cannot denormalise actions")
        if head == "flow" and model.flow is None:
            raise UserError("head 'flow' needs a checkpoint with flow.enabled=true")
        self.model, self.head = model.eval(), head
        self.name = f"sgvla-{head}"
        self.processor = make_processor(model)
        self.bins = ActionBins(model.config.action.n_bins)
        self.keys = sorted(model.config.inputs.image_keys())
        self.seed = seed
        self.reset(None)

    @classmethod
    def from_checkpoint(cls, path: str | Path, head: str = "tokens", device: str = "cpu", seed: int = 0) -> SGVLAPolicy:
        from hab_aux.train.checkpoint import load_pretrained

        return cls(load_pretrained(path, device=device), head=head, seed=seed)

    def reset(self, episode: EpisodeInfo | None) -> None:
        self.queue: deque[np.ndarray] = deque()
        self.ensemble = TemporalEnsemble(self.head_config.chunk, self.head_config.ensemble_decay) \
            if self.head_config.temporal_ensemble else None  # fmt: skip
        self.frames: deque[dict] = deque(maxlen=self.model.config.inputs.history + 1)
        seed = self.seed if episode is None else episode.episode_seed
        self.generator = torch.Generator().manual_seed(int(seed))

    @property
    def head_config(self):
        """The head's chunking settings: `action` (tokens) or `flow`."""
        return self.model.config.action if self.head == "tokens" else self.model.config.flow

    def _sample(self, observation: Observation, instruction: str) -> dict:
        frame = {k: np.asarray(observation[k]) for k in self.keys}
        if not self.frames:
            self.frames.extend([frame] * self.frames.maxlen)
        else:
            self.frames.append(frame)
        state = {PROPRIO_KEY: proprio_of(observation["qpos"])} if self.model.config.inputs.proprio else {}
        if self.model.config.inputs.history == 0:
            return {**frame, **state, "instruction": instruction}
        return {**{k: np.stack([f[k] for f in self.frames]) for k in self.keys}, **state, "instruction": instruction}

    def _chunk(self, sample: dict) -> np.ndarray:
        """The head's normalised action chunk, (chunk, 13)."""
        device = self.model.action_token_ids.device
        batch = self.processor([sample], with_actions=False).to(device)
        if self.head == "tokens":
            return self.bins.decode(self.model.predict_action_bins(batch).cpu().numpy()).reshape(-1, ACTION_DIM)
        return self.model.predict_flow(batch, generator=self.generator)[0].float().cpu().numpy()

    def select_action(self, observation: Observation, instruction: str) -> np.ndarray:
        sample = self._sample(observation, instruction)  # history advances every step, queued or not
        if self.ensemble is not None:
            normalised = self.ensemble.step(self._chunk(sample))
        else:
            if not self.queue:
                self.queue.extend(self._chunk(sample)[: self.head_config.execute])
            normalised = self.queue.popleft()
        action = self.model.stats.unnormalize(normalised)
        return np.clip(action, -1.0, 1.0).astype(np.float32).reshape(ACTION_DIM)
