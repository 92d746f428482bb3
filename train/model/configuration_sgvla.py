"""SG-VLA configuration: plain frozen dataclasses, validated in `__post_init__`.

Everything that varies between experiments is data here: which inputs are fed (the paper's input
ablations), which auxiliary decoders exist (Table 1 as a `DecoderSpec` table) and how gradients are
routed in each training stage (`StageSpec`). No torch import: the CLI reads configs cheaply.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from hab_aux.errors import UserError
from hab_aux.schema import CAMERAS, FIELDS
from hab_aux.train.model.image_slot import KINDS, ImageSlot

# Names the model code implements; the registries in decoders.py / losses.py use the same keys.
DECODER_KINDS = ("pooled_mlp", "query_transformer", "deconv")
DECODER_LOSSES = ("mse", "bce", "pose", "bce_map")
VISION_ENCODERS = ("dinov2", "siglip", "convnext")  # fused in this order; vision.py says how each is read
COMPONENTS = (*VISION_ENCODERS, "projector", "proprio", "llm", "flow", "decoders")
LOSS_TERMS = ("tokens", "flow", "aux")  # "flow": the action expert's loss, whatever its flow.objective
EXPERT_OBJECTIVES = ("flow", "l1")
IMAGE_TOKENS = "image:"  # a decoder source "image:head_rgb" reads that image's tokens (current frame)
TOKEN_SOURCES = ("prefix",) + tuple(f"{IMAGE_TOKENS}{cam}_rgb" for cam in CAMERAS)


def _check(kind: str, value: Any, valid) -> None:
    valid = tuple(valid)
    if value not in valid:
        raise UserError(f"unknown {kind} {value!r}; valid: {', '.join(map(str, valid))}")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise UserError(f"{name} must be > 0, got {value!r}")


@dataclass(frozen=True)
class PretrainedSpec:
    """One Hugging Face component: `pretrained` (hub id or local folder) goes through the real
    `from_pretrained`; when it is None the component is built with random weights from `arch`
    (a transformers config as a dict). `arch` also lets `model-info` count parameters on `meta`."""

    pretrained: str | None
    arch: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.pretrained is None and not self.arch:
            raise UserError("a component needs `pretrained` (hub id or folder) or an `arch` config dict")


@dataclass(frozen=True)
class VisionConfig:
    """The vision encoders whose patch features are concatenated per image: DINOv2-with-registers +
    SigLIP is Prismatic's "dinosiglip" (the paper's); `convnext` is a convolutional encoder (its
    last-stage feature map read as patch tokens), which learns faster from random weights. Every
    configured encoder must give the same number of patches per image."""

    dinov2: PretrainedSpec | None = None
    siglip: PretrainedSpec | None = None
    convnext: PretrainedSpec | None = None
    image_size: int = 224  # every encoder sees this many pixels (inputs are resized from 128, antialiased)
    feature_layer: int = -2  # hidden_states index (a layer, or a ConvNeXt stage): Prismatic takes the second-to-last
    dinov2_mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # ImageNet
    dinov2_std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    siglip_mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    siglip_std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    convnext_mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # ImageNet
    convnext_std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    projector_mult: int = 4  # Linear(fused -> mult*fused) GELU Linear(-> H) GELU Linear(H -> H)
    # A learned embedding per (image slot, patch) added to the projected image tokens. Not in the paper,
    # whose ViTs embed each patch's position: a ConvNeXt's tokens carry none, and without it nothing but
    # the LLM's rotary positions tells a token where in which camera's image it lies.
    token_positions: bool = False
    # Every image slot stacked on channels into one image (3 x slots channels) before the encoders: the
    # cameras' RGB and depth fused at the first layer, as the bc_probe's CNN, and the encoders run once
    # per sample instead of once per slot. Not in the paper; random-init encoders only (their first layer
    # is built for the stacked channels).
    stack_slots: bool = False

    def __post_init__(self):
        if not self.encoders():
            raise UserError(f"vision needs at least one encoder of {', '.join(VISION_ENCODERS)}")
        _positive("vision.image_size", self.image_size)  # a multiple of the encoders' patch size (checked at build)
        _positive("vision.projector_mult", self.projector_mult)

    def encoders(self) -> dict[str, PretrainedSpec]:
        """The configured encoders by name, in fusion order."""
        return {name: getattr(self, name) for name in VISION_ENCODERS if getattr(self, name) is not None}


@dataclass(frozen=True)
class LLMConfig:
    model: PretrainedSpec
    tokenizer: str  # hub id or folder for AutoTokenizer, or "builtin:tiny" (built offline, saved, reloaded)
    action_token_format: str = "<act_{}>"  # 256 new vocabulary tokens, looked up by name
    prompt: str = "In: What action should the robot take to {instruction}?\nOut:"

    def __post_init__(self):
        if "{}" not in self.action_token_format:
            raise UserError(f"llm.action_token_format must contain '{{}}', got {self.action_token_format!r}")
        if "{instruction}" not in self.prompt:
            raise UserError(f"llm.prompt must contain '{{instruction}}', got {self.prompt!r}")


@dataclass(frozen=True)
class InputConfig:
    """The paper's input ablations: views, depth, history."""

    cameras: tuple[str, ...] = CAMERAS
    depth: bool = True  # Eq. 1 depth image per camera, through the same encoders
    history: int = 0  # past frames fed in addition to the current one (paper tried 4; it hurt)
    # Robot state as one prefix token after the images: qpos without the three base joints (where
    # the base is in the world says nothing the images do not, and varies with the layout), q01/q99-
    # normalised with stats that travel with the checkpoint. Not in the paper: its recipes keep it off.
    proprio: bool = False

    def __post_init__(self):
        if not self.cameras:
            raise UserError(f"inputs.cameras must name at least one of {', '.join(CAMERAS)}")
        for cam in self.cameras:
            _check("camera", cam, CAMERAS)
        if self.history < 0:
            raise UserError(f"inputs.history must be >= 0, got {self.history}")

    def image_slots(self) -> tuple[ImageSlot, ...]:
        """Image order in the vision prefix: frames oldest -> current, per camera rgb then depth."""
        kinds = KINDS if self.depth else KINDS[:1]
        return tuple(
            ImageSlot(frame, cam, kind) for frame in range(self.history, -1, -1) for cam in self.cameras for kind in kinds
        )

    def image_keys(self) -> tuple[str, ...]:
        """The sample keys the slots read, each once, in slot order."""
        return tuple(dict.fromkeys(slot.key for slot in self.image_slots()))


@dataclass(frozen=True)
class ActionConfig:
    """The token head: `chunk` future actions of 13 tokens each per prediction (ACT-style chunking;
    the paper predicts one), of which the policy executes the first `execute` before predicting
    again; or, with `temporal_ensemble`, it predicts every step and executes the weighted mean of
    every chunk's prediction for that step (ACT: weight exp(-ensemble_decay * i), i = 0 the oldest)."""

    n_bins: int = 256  # uniform bins over the normalised (clipped) range [-1, 1]
    chunk: int = 1
    execute: int = 1
    temporal_ensemble: bool = False
    ensemble_decay: float = 0.01

    def __post_init__(self):
        if self.n_bins < 2:
            raise UserError(f"action.n_bins must be >= 2, got {self.n_bins}")
        _positive("action.chunk", self.chunk)
        if not 1 <= self.execute <= self.chunk:
            raise UserError(f"action.execute must be in [1, action.chunk={self.chunk}], got {self.execute}")
        if self.temporal_ensemble and self.execute != 1:
            raise UserError(f"action.temporal_ensemble predicts every step: action.execute must be 1, got {self.execute}")
        if self.ensemble_decay < 0:
            raise UserError(f"action.ensemble_decay must be >= 0, got {self.ensemble_decay}")


@dataclass(frozen=True)
class FlowConfig:
    """pi0-style flow-matching action expert; cross-attends to the VLM prefix's last hidden states."""

    enabled: bool = False
    # What the expert learns (`EXPERT_OBJECTIVES`): "flow", a velocity field integrated from noise in
    # `steps` Euler steps; or "l1", the chunk itself in one pass from learned per-position queries,
    # under an L1 loss (OpenVLA-OFT's parallel decoding with L1 regression).
    objective: str = "flow"
    chunk: int = 8
    execute: int = 2
    steps: int = 10
    width: int = 768
    depth: int = 10
    heads: int = 12
    mlp_ratio: int = 4
    beta_a: float = 1.5
    beta_b: float = 1.0
    t_min: float = 0.001
    # CogACT's repeated diffusion steps: each training sample's prefix (most of a step's cost) is
    # encoded once and the expert learns from this many independent (noise, time) draws on it.
    noise_repeats: int = 1
    # The normalised robot state (inputs.proprio) also enters the expert directly, added to every
    # action token, as pi0 gives its action expert the state: the expert's targets are joint
    # deltas towards a waypoint, which need the joint positions more precisely than the prefix
    # token carries them through the LLM.
    state: bool = False
    # As the token head's: predict a chunk every step and execute ACT's weighted mean of every
    # chunk's prediction for that step (10 flow steps per control step instead of per `execute`).
    temporal_ensemble: bool = False
    ensemble_decay: float = 0.01

    def __post_init__(self):
        for name in ("chunk", "steps", "width", "depth", "heads", "mlp_ratio", "noise_repeats"):
            _positive(f"flow.{name}", getattr(self, name))
        _check("flow.objective", self.objective, EXPERT_OBJECTIVES)
        if self.objective == "l1" and self.noise_repeats != 1:
            raise UserError(f"flow.noise_repeats draws noise, which flow.objective=l1 has none of: it must be 1, got {self.noise_repeats}")
        if not 1 <= self.execute <= self.chunk:
            raise UserError(f"flow.execute must be in [1, flow.chunk={self.chunk}], got {self.execute}")
        if self.temporal_ensemble and self.execute != 1:
            raise UserError(f"flow.temporal_ensemble predicts every step: flow.execute must be 1, got {self.execute}")
        if self.ensemble_decay < 0:
            raise UserError(f"flow.ensemble_decay must be >= 0, got {self.ensemble_decay}")
        if self.width % self.heads:
            raise UserError(f"flow.width ({self.width}) must be divisible by flow.heads ({self.heads})")


LR_DECAYS = ("constant", "cosine")


@dataclass(frozen=True)
class OptimConfig:
    """Training defaults that belong to the model: the paper's 2e-5 fine-tunes pretrained weights,
    while random-init presets need larger steps. `habaux train --lr` overrides `lr`."""

    lr: float = 2e-5
    warmup_steps: int = 0  # linear from 0 to lr
    decay: str = "constant"  # after the warm-up: constant, or cosine down to min_lr_fraction * lr at the last step
    min_lr_fraction: float = 0.1

    def __post_init__(self):
        _positive("optim.lr", self.lr)
        _check("optim.decay", self.decay, LR_DECAYS)
        if self.warmup_steps < 0:
            raise UserError(f"optim.warmup_steps must be >= 0, got {self.warmup_steps}")
        if not 0 <= self.min_lr_fraction <= 1:
            raise UserError(f"optim.min_lr_fraction must be in [0, 1], got {self.min_lr_fraction}")

    def lr_at(self, step: int, last: int, lr: float | None = None) -> float:
        """The learning rate of optimizer step `step` (0-based) of a run of `last` steps (`lr`: the peak, default
        this config's): a pure function of the step, so a resumed run continues the same schedule."""
        peak = self.lr if lr is None else lr
        if step < self.warmup_steps:
            return peak * (step + 1) / self.warmup_steps
        if self.decay == "constant":
            return peak
        span = max(1, last - self.warmup_steps - 1)
        progress = min(1.0, (step - self.warmup_steps) / span)
        floor = self.min_lr_fraction * peak
        return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class DecoderSpec:
    """One auxiliary decoder (sgvla.md Table 1). `target` is a schema key; `index` picks dims of it."""

    name: str
    target: str
    kind: str
    loss: str
    weight: float
    enabled: bool = True
    index: tuple[int, ...] | None = None
    width: int = 512
    layers: int = 3
    tokens: str = "prefix"  # which LLM latents it reads: all prefix tokens, or one image's tokens

    def __post_init__(self):
        _check("decoder target", self.target, [k for k, f in FIELDS.items() if f.role in ("label", "obs")])
        _check("decoder kind", self.kind, DECODER_KINDS)
        _check("decoder loss", self.loss, DECODER_LOSSES)
        _check("decoder tokens", self.tokens, TOKEN_SOURCES)
        if self.weight < 0:
            raise UserError(f"decoder {self.name}: weight must be >= 0, got {self.weight}")
        _positive(f"decoder {self.name}: width", self.width)

    @property
    def image_key(self) -> str | None:
        """The sample key of the image whose tokens it reads; None when it reads the whole prefix."""
        return self.tokens.removeprefix(IMAGE_TOKENS) if self.tokens.startswith(IMAGE_TOKENS) else None

    @property
    def target_shape(self) -> tuple[int, ...]:
        shape = FIELDS[self.target].shape
        return (len(self.index),) if self.index is not None else shape


@dataclass(frozen=True)
class StageSpec:
    """Gradient routing of one training stage, as data."""

    name: str
    detach_decoder_inputs: bool  # decoders read detached LLM latents: aux losses never reach the backbone
    trainable: tuple[str, ...]  # component names (COMPONENTS) whose parameters train
    losses: tuple[str, ...]  # LOSS_TERMS: "tokens", "flow", "aux" (all enabled decoders)

    def __post_init__(self):
        for c in self.trainable:
            _check(f"component in stage {self.name!r}", c, COMPONENTS)
        for term in self.losses:
            _check(f"loss in stage {self.name!r}", term, LOSS_TERMS)


PAPER_STAGES = (
    StageSpec("adapt", True, COMPONENTS, ("tokens", "aux")),  # stage 1: decoder adaptation
    StageSpec("joint", False, COMPONENTS, ("tokens", "aux")),  # stage 2: joint refinement
    StageSpec("expert", True, ("flow",), ("flow",)),  # stage 3: backbone frozen, expert trains
)


def paper_decoders(width: int = 512, layers: int = 3) -> tuple[DecoderSpec, ...]:
    """Table 1 with the paper's lambdas; `width` is the 512 of "Proj 896->512"."""
    w = dict(width=width, layers=layers)
    return (
        DecoderSpec("global_pos", "base_pose", "pooled_mlp", "mse", 1.0, index=(0, 1), **w),
        DecoderSpec("grasp", "is_grasped", "pooled_mlp", "bce", 5.0, **w),
        DecoderSpec("object_pose", "target_pose", "pooled_mlp", "pose", 1.0, **w),
        DecoderSpec("joint_pose", "qpos", "query_transformer", "mse", 1.0, index=tuple(range(3, 15)), width=width, layers=2),
        # The head camera sees the target from afar (pick/place/open/close); the hand camera often sees only the gripper.
        DecoderSpec("mask", "head_mask", "deconv", "bce_map", 1.0, width=width, layers=4, tokens="image:head_rgb"),
    )


@dataclass(frozen=True)
class SGVLAConfig:
    name: str
    vision: VisionConfig
    llm: LLMConfig
    inputs: InputConfig = InputConfig()
    action: ActionConfig = ActionConfig()
    flow: FlowConfig = FlowConfig()
    decoders: tuple[DecoderSpec, ...] = paper_decoders()
    stages: tuple[StageSpec, ...] = PAPER_STAGES
    optim: OptimConfig = OptimConfig()

    def __post_init__(self):
        names = [d.name for d in self.decoders]
        if len(set(names)) != len(names):
            raise UserError(f"decoder names must be unique, got {names}")
        for d in self.decoders:
            if d.enabled and d.image_key is not None:
                if ImageSlot.current(d.image_key).camera not in self.inputs.cameras:
                    raise UserError(f"decoder {d.name} reads {d.tokens} but inputs.cameras is {self.inputs.cameras}")
        if len({s.name for s in self.stages}) != len(self.stages):
            raise UserError("stage names must be unique")

    def check_inputs(self) -> None:
        """Cross-field rules checked when a model is built, not per field: `--set` applies one field at a
        time, so `inputs.proprio=false flow.state=false` passes through a state that breaks them."""
        if self.flow.enabled and self.flow.state and not self.inputs.proprio:
            raise UserError("flow.state feeds the robot state (inputs.proprio) to the flow expert: turn inputs.proprio "
                            "on, or set flow.state=false")  # fmt: skip

    def stage(self, name: str) -> StageSpec:
        by_name = {s.name: s for s in self.stages}
        _check("stage", name, by_name)
        return by_name[name]

    @property
    def enabled_decoders(self) -> tuple[DecoderSpec, ...]:
        return tuple(d for d in self.decoders if d.enabled)

    def replace(self, **changes) -> SGVLAConfig:
        return dataclasses.replace(self, **changes)

    # ---- JSON round trip -------------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> SGVLAConfig:
        def spec(x):
            return PretrainedSpec(x["pretrained"], dict(x.get("arch") or {}))

        v = dict(d["vision"])
        v.update({name: spec(v[name]) for name in VISION_ENCODERS if v.get(name) is not None})
        v = {k: tuple(x) if isinstance(x, list) else x for k, x in v.items()}
        llm = dict(d["llm"], model=spec(d["llm"]["model"]))
        decoders = tuple(
            DecoderSpec(**{**x, "index": None if x.get("index") is None else tuple(x["index"])}) for x in d["decoders"]
        )
        stages = tuple(
            StageSpec(s["name"], s["detach_decoder_inputs"], tuple(s["trainable"]), tuple(s["losses"])) for s in d["stages"]
        )
        return cls(
            name=d["name"],
            vision=VisionConfig(**v),
            llm=LLMConfig(**llm),
            inputs=InputConfig(**{**d["inputs"], "cameras": tuple(d["inputs"]["cameras"])}),
            action=ActionConfig(**d["action"]),
            flow=FlowConfig(**d["flow"]),
            decoders=decoders,
            stages=stages,
            optim=OptimConfig(**d.get("optim", {})),  # checkpoints saved before optim existed: its defaults
        )
