"""Schema-keyed numpy samples -> `SGVLABatch` (normalise, tokenise, collect labels).

A sample is a dict of `hab_aux.schema` step keys plus "instruction" (str). With `inputs.history=k`,
image keys hold (k+1, ...) stacks, oldest first, the current frame last. Optional flow targets:
"action_chunk" (chunk, 13) and "action_chunk_valid" (chunk,) bool (steps past the episode end are
invalid); without them only chunk step 0 (= "action") is a valid target. With `inputs.proprio`,
"proprio" (12,) is the robot state (qpos without the base). Depth goes through Eq. 1
(`schema.depth_to_image`) and is repeated on 3 channels; 0 mm (no hit) maps to 0 (far). A label key that is missing,
None, or has a NaN makes that sample's label invalid: its loss is masked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import torch

from hab_aux.errors import UserError
from hab_aux.schema import ACTION_DIM, QPOS_NO_BASE, depth_to_image
from hab_aux.train.model.action_tokenizer import ActionBins, ActionStats, ProprioStats
from hab_aux.train.model.configuration_sgvla import SGVLAConfig


@dataclass
class SGVLABatch:
    """B samples, I images each (I = len(config.inputs.image_slots())), L text positions.

    images:           (B, I, 3, 128, 128) float32 in [0, 1] (RGB, or Eq. 1 depth on 3 channels)
    input_ids:        (B, L) int64, left-padded prompt [+ action.chunk * 13 action tokens + eos when training]
    attention_mask:   (B, L) bool, False on padding
    prefix_mask:      (B, L) bool, True on real prompt tokens (not padding, not action/eos)
    labels:           (B, L) int64, -100 except action tokens and eos; None at inference
    proprio:          (B, 12) float32 normalised qpos without the base; None unless inputs.proprio
    action_chunk:     (B, chunk, 13) float32 normalised actions; None when not given
    action_chunk_valid: (B, chunk) bool
    targets:          decoder name -> (B, *target_shape) float32 (zeros where invalid)
    target_valid:     decoder name -> (B,) bool
    """

    images: torch.Tensor
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    prefix_mask: torch.Tensor
    labels: torch.Tensor | None = None
    proprio: torch.Tensor | None = None
    action_chunk: torch.Tensor | None = None
    action_chunk_valid: torch.Tensor | None = None
    targets: dict[str, torch.Tensor] = field(default_factory=dict)
    target_valid: dict[str, torch.Tensor] = field(default_factory=dict)

    def to(self, device) -> SGVLABatch:
        def mv(x):
            if isinstance(x, dict):
                return {k: v.to(device) for k, v in x.items()}
            return None if x is None else x.to(device)

        return SGVLABatch(**{f.name: mv(getattr(self, f.name)) for f in fields(self)})

    def __len__(self) -> int:
        return self.images.shape[0]


def _label(sample: dict, key: str, index) -> np.ndarray | None:
    value = sample.get(key)
    if value is None:
        return None
    a = np.asarray(value, dtype=np.float32)
    if index is not None:
        a = a[list(index)]
    return None if np.isnan(a).any() else a


def _depth(depth_mm: np.ndarray) -> np.ndarray:
    """Eq. 1, except that 0 mm (no hit: beyond range, sky, holes) is shown as far (0), not nearest (1)."""
    return np.where(depth_mm == 0, 0.0, depth_to_image(depth_mm)).astype(np.float32)


# The proprio input's sample key: qpos without the base (`schema.QPOS_NO_BASE`). Not "qpos", which is
# also the joint-pose decoder's target and is None where the label allocation withholds it.
PROPRIO_KEY = "proprio"


def proprio_of(qpos: np.ndarray) -> np.ndarray:
    """The proprio input of one step: its qpos without the base joints."""
    return np.asarray(qpos)[list(QPOS_NO_BASE)]


class SGVLAProcessor:
    def __init__(self, config: SGVLAConfig, tokenizer, stats: ActionStats | None, action_token_ids: list[int],
                 proprio_stats: ProprioStats | None = None):  # fmt: skip
        if config.inputs.proprio and proprio_stats is None:
            raise UserError("inputs.proprio is on but there are no proprio stats (ProprioStats.from_data(qpos[:, 3:]))")
        self.config, self.tokenizer, self.stats, self.proprio_stats = config, tokenizer, stats, proprio_stats
        self.action_token_ids = list(action_token_ids)
        self.bins = ActionBins(config.action.n_bins)
        self.slots = config.inputs.image_slots()

    # ---- images --------------------------------------------------------------------------
    def _images(self, sample: dict) -> np.ndarray:
        k = self.config.inputs.history
        out = []
        for slot in self.slots:
            if slot.key not in sample:
                raise UserError(f"sample is missing {slot.key!r} (inputs: {', '.join(map(str, self.slots))})")
            a = np.asarray(sample[slot.key])
            if k:
                if a.ndim != 4 or a.shape[0] != k + 1:
                    raise UserError(f"{slot.key}: inputs.history={k} needs a ({k + 1}, H, W, C) stack, got {a.shape}")
                a = a[k - slot.frame]
            img = _depth(a[..., 0]) if slot.is_depth else a.astype(np.float32) / 255.0
            out.append(np.repeat(img[None], 3, 0) if img.ndim == 2 else img.transpose(2, 0, 1))
        # Half precision: a batch crosses from the loader workers to the training process at half
        # the bytes (its handover grows with them); values in [0, 1] move by < 2.5e-4.
        return np.stack(out).astype(np.float16)

    def _proprio(self, samples: list[dict]) -> torch.Tensor:
        if any(s.get(PROPRIO_KEY) is None for s in samples):
            raise UserError(f"inputs.proprio needs {PROPRIO_KEY!r} ({len(QPOS_NO_BASE)},) in every sample: qpos[QPOS_NO_BASE]")
        state = np.stack([np.asarray(s[PROPRIO_KEY], np.float32) for s in samples])
        return torch.from_numpy(self.proprio_stats.normalize(state))

    # ---- text + action tokens ------------------------------------------------------------
    def action_tokens(self, action: np.ndarray) -> list[int]:
        if self.stats is None:
            raise UserError("no action normalisation stats: build them with ActionStats.from_data(actions)")
        idx = self.bins.encode(self.stats.normalize(action))
        return [self.action_token_ids[i] for i in idx]

    def _token_actions(self, sample: dict) -> tuple[np.ndarray, np.ndarray]:
        """The (chunk, 13) actions the token head learns, and which are real (past the episode's
        end a chunk repeats its last action, unlabelled)."""
        k = self.config.action.chunk
        if k == 1:
            return np.asarray(sample["action"], np.float32)[None], np.ones(1, bool)
        if sample.get("action_chunk") is None:
            raise UserError(f"action.chunk={k} needs 'action_chunk' ({k}, 13) in every training sample")
        chunk = np.asarray(sample["action_chunk"], np.float32)[:k]
        valid = np.asarray(sample.get("action_chunk_valid", np.ones(len(chunk), bool)), bool)[:k]
        if len(chunk) < k:
            raise UserError(f"action.chunk={k} but a sample holds {len(chunk)} future actions")
        return chunk, valid

    def _text(self, instructions, actions):
        """`actions`: per sample, (chunk, 13) actions and their valid mask, or None at inference."""
        tok, rows = self.tokenizer, []
        for i, instr in enumerate(instructions):
            ids = list(tok(self.config.llm.prompt.format(instruction=instr))["input_ids"])
            tail, labelled = [], []
            if actions is not None:
                chunk, valid = actions[i]
                for action, real in zip(chunk, valid):
                    tail += self.action_tokens(action)
                    labelled += [bool(real)] * ACTION_DIM
                tail, labelled = tail + [tok.eos_token_id], labelled + [True]
            rows.append((ids, tail, labelled))
        length = max(len(a) + len(b) for a, b, _ in rows)
        shape = (len(rows), length)
        input_ids = torch.full(shape, tok.pad_token_id, dtype=torch.long)
        attn, prefix = torch.zeros(shape, dtype=torch.bool), torch.zeros(shape, dtype=torch.bool)
        labels = torch.full(shape, -100, dtype=torch.long)
        for i, (ids, tail, labelled) in enumerate(rows):
            start = length - len(ids) - len(tail)
            input_ids[i, start:] = torch.tensor(ids + tail)
            attn[i, start:] = True
            prefix[i, start : start + len(ids)] = True
            if tail:
                labels[i, start + len(ids) :] = torch.where(torch.tensor(labelled), torch.tensor(tail), -100)
        return input_ids, attn, prefix, (labels if actions is not None else None)

    # ---- flow targets and auxiliary labels -----------------------------------------------
    def _chunk(self, samples):
        h = self.config.flow.chunk
        chunk = np.zeros((len(samples), h, ACTION_DIM), np.float32)
        valid = np.zeros((len(samples), h), bool)
        for i, s in enumerate(samples):
            if s.get("action_chunk") is not None:
                a = np.asarray(s["action_chunk"], np.float32)[:h]
                chunk[i, : len(a)] = self.stats.normalize(a)
                v = s.get("action_chunk_valid")
                valid[i, : len(a)] = True if v is None else np.asarray(v, bool)[:h]
            else:
                chunk[i, 0], valid[i, 0] = self.stats.normalize(s["action"]), True
        return torch.from_numpy(chunk), torch.from_numpy(valid)

    def __call__(self, samples: list[dict], with_actions: bool = True) -> SGVLABatch:
        if not samples:
            raise ValueError("empty batch")
        instructions = [s.get("instruction") for s in samples]
        if any(not isinstance(x, str) for x in instructions):
            raise UserError("every sample needs an 'instruction' string")
        actions = None
        if with_actions:
            if any(s.get("action") is None for s in samples):
                raise UserError("training samples need 'action' (13,)")
            actions = [self._token_actions(s) for s in samples]
        input_ids, attn, prefix, labels = self._text(instructions, actions)
        batch = SGVLABatch(torch.from_numpy(np.stack([self._images(s) for s in samples])), input_ids, attn, prefix, labels)
        if self.config.inputs.proprio:
            batch.proprio = self._proprio(samples)
        if with_actions and self.config.flow.enabled:
            batch.action_chunk, batch.action_chunk_valid = self._chunk(samples)
        for spec in self.config.enabled_decoders if with_actions else ():
            vals = [_label(s, spec.target, spec.index) for s in samples]
            zero = np.zeros(spec.target_shape, np.float32)
            batch.targets[spec.name] = torch.from_numpy(np.stack([zero if v is None else v.reshape(zero.shape) for v in vals]))
            batch.target_valid[spec.name] = torch.tensor([v is not None for v in vals])
        return batch
