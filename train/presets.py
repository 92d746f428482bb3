"""Named, frozen SG-VLA configs and CLI-style overrides (`override(cfg, ["flow.enabled=true"])`).

`sgvla-1.3b`: the paper's backbone, loaded from the hub (or a local copy) via `from_pretrained`.
Its `arch` dicts repeat the hub configs' numbers so `habaux model-info` counts parameters on the
`meta` device without downloading anything.
`small`: the CPU-scale model, random init, sized to learn on a 2-core machine.
`tiny`: the same transformers classes with very small random configs, built fully offline: for
tests and smoke runs only (it is too small to learn the tasks).
"""

from __future__ import annotations

import dataclasses
import json

from hab_aux.errors import UserError, choose
from hab_aux.train.model.configuration_sgvla import (
    ActionConfig,
    FlowConfig,
    InputConfig,
    LLMConfig,
    OptimConfig,
    PretrainedSpec,
    SGVLAConfig,
    VisionConfig,
    paper_decoders,
)

# Numbers of the real hub configs (facebook/dinov2-with-registers-large, google/siglip-so400m-patch14-224,
# Qwen/Qwen2.5-0.5B); used only to build architectures on `meta` for parameter counts.
DINOV2_L_REG = dict(
    hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, mlp_ratio=4, num_register_tokens=4,
    image_size=518, patch_size=14, layerscale_value=1.0,
)  # fmt: skip
SIGLIP_SO400M_224 = dict(
    hidden_size=1152, num_hidden_layers=27, num_attention_heads=16, intermediate_size=4304, image_size=224,
    patch_size=14, vision_use_head=False,
)  # fmt: skip
QWEN25_05B = dict(
    hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, intermediate_size=4864,
    vocab_size=151936, tie_word_embeddings=True, max_position_embeddings=32768, rope_theta=1000000.0,
)  # fmt: skip

SGVLA_1_3B = SGVLAConfig(
    name="sgvla-1.3b",
    vision=VisionConfig(
        dinov2=PretrainedSpec("facebook/dinov2-with-registers-large", DINOV2_L_REG),
        siglip=PretrainedSpec("google/siglip-so400m-patch14-224", SIGLIP_SO400M_224),
        image_size=224,
    ),
    llm=LLMConfig(model=PretrainedSpec("Qwen/Qwen2.5-0.5B", QWEN25_05B), tokenizer="Qwen/Qwen2.5-0.5B"),
    flow=FlowConfig(enabled=False, width=768, depth=10, heads=12),
    decoders=paper_decoders(width=512),
)

TINY_IMAGE = 56
TINY = SGVLAConfig(
    name="tiny",
    vision=VisionConfig(
        dinov2=PretrainedSpec(None, dict(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, num_register_tokens=4,
            image_size=TINY_IMAGE, patch_size=14,
        )),  # fmt: skip
        siglip=PretrainedSpec(None, dict(
            hidden_size=48, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=TINY_IMAGE,
            patch_size=14, vision_use_head=False,
        )),  # fmt: skip
        image_size=TINY_IMAGE,
        projector_mult=1,
    ),
    llm=LLMConfig(
        model=PretrainedSpec(None, dict(
            hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=128,
            vocab_size=512, tie_word_embeddings=True, max_position_embeddings=1024,
        )),  # fmt: skip
        tokenizer="builtin:tiny",
    ),
    flow=FlowConfig(enabled=True, width=32, depth=2, heads=2, mlp_ratio=2),
    decoders=paper_decoders(width=32),
)

# CPU-scale: the same structure and classes at a size a 2-core machine trains in about an hour, from
# random init. Images at their native 128 px in 32-px patches: 16 tokens per image, so the LLM reads
# 64 image tokens instead of 256, and a training step takes half the time of 16-px patches
# (docs/small-preset.md: the measurement). A linear patch embedding still sees every pixel, so the
# drawer handle is not averaged away. Every encoder layer used (feature_layer -1), the robot's joint
# positions as a prefix token (inputs.proprio, not in the paper) and, as pi0 does, directly in the
# flow expert (flow.state: a fifth lower flow loss at step 3,000, docs/small-preset.md), a 4-step
# token chunk, and a learning rate for random weights, warmed up and decayed (1e-3 fitted the
# actions worse). Without proprioception: --set inputs.proprio=false --set flow.state=false.
SMALL_IMAGE = 128
SMALL = SGVLAConfig(
    name="small",
    vision=VisionConfig(
        dinov2=PretrainedSpec(None, dict(
            hidden_size=96, num_hidden_layers=4, num_attention_heads=4, mlp_ratio=2, num_register_tokens=4,
            image_size=SMALL_IMAGE, patch_size=32,
        )),  # fmt: skip
        siglip=PretrainedSpec(None, dict(
            hidden_size=96, num_hidden_layers=4, num_attention_heads=4, intermediate_size=192, image_size=SMALL_IMAGE,
            patch_size=32, vision_use_head=False,
        )),  # fmt: skip
        image_size=SMALL_IMAGE,
        feature_layer=-1,
        projector_mult=1,
    ),
    llm=LLMConfig(
        model=PretrainedSpec(None, dict(
            hidden_size=192, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, intermediate_size=384,
            vocab_size=512, tie_word_embeddings=True, max_position_embeddings=1024,
        )),  # fmt: skip
        tokenizer="builtin:tiny",
    ),
    inputs=InputConfig(proprio=True),
    action=ActionConfig(chunk=4, execute=2),
    flow=FlowConfig(enabled=True, width=96, depth=3, heads=4, mlp_ratio=2, state=True),
    decoders=paper_decoders(width=96),
    optim=OptimConfig(lr=3e-4, warmup_steps=500, decay="cosine"),
)

# `small` with a ConvNeXt (transformers' class, random init) in place of DINOv2 + SigLIP: the issue's
# probe had a small CNN learn far faster from scratch than the tiny ViTs. An 8-px stem and three
# stages give 16 tokens per image at 128 px, as `small`, at `small`'s speed (a 4-px stem and four
# stages took 1.6-2.7x the vision time per step); the last stage is as wide as `small`'s two ViTs
# together. Layer scale off (ConvNeXt's 1e-6 start suits 300 ImageNet epochs, not an hour).
SMALL_CONV = SMALL.replace(
    name="small-conv",
    vision=VisionConfig(
        convnext=PretrainedSpec(None, dict(
            num_channels=3, patch_size=8, num_stages=3, hidden_sizes=[48, 96, 192], depths=[1, 2, 1],
            layer_scale_init_value=0.0, image_size=SMALL_IMAGE,
        )),  # fmt: skip
        image_size=SMALL_IMAGE,
        feature_layer=-1,
        projector_mult=1,
    ),
)

PRESETS: dict[str, SGVLAConfig] = {c.name: c for c in (SGVLA_1_3B, SMALL, SMALL_CONV, TINY)}


def get_preset(name: str) -> SGVLAConfig:
    return PRESETS[choose("preset", name, PRESETS)]


def _parse(raw: str, current):
    if isinstance(current, bool):
        if raw.lower() not in ("true", "false", "1", "0"):
            raise UserError(f"expected true or false, got {raw!r}")
        return raw.lower() in ("true", "1")
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        try:
            return type(current)(raw)
        except ValueError:
            raise UserError(f"expected a {type(current).__name__}, got {raw!r}") from None
    if isinstance(current, list):  # an `arch` list (ConvNeXt hidden_sizes, depths): JSON
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, list):
            raise UserError(f"expected a JSON list such as {json.dumps(current)}, got {raw!r}")
        return value
    if isinstance(current, tuple) or current is None:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = [s for s in raw.split(",") if s] if isinstance(current, tuple) else raw
        return tuple(value) if isinstance(value, list) else value
    return raw


def _apply(obj, items: list[tuple[list[str], str, str]]):
    """Apply (path, raw value, assignment) items under `obj`. Items that reach the same record are
    applied to it together, so a record validates once, with all its new values (action.chunk=1
    and action.execute=1 work in either order)."""
    if isinstance(obj, tuple) and obj and hasattr(obj[0], "name"):  # a table keyed by name (decoders, stages)
        names, out = [x.name for x in obj], list(obj)
        for head, sub in _by_head(items).items():
            choose(f"name in {sub[0][2]!r}", head, names)
            if any(not path for path, _, _ in sub):
                raise UserError(f"{sub[0][2]!r}: name a field of {head!r}")
            i = names.index(head)
            out[i] = _apply(out[i], sub)
        return tuple(out)
    if isinstance(obj, dict):  # a component's `arch` config: keys it has, values of their type
        out = dict(obj)
        for head, sub in _by_head(items).items():
            choose(f"key in {sub[0][2]!r}", head, obj)
            for path, raw, full in sub:
                if path:
                    raise UserError(f"{full!r}: {head!r} is a value, not a table")
                out[head] = _parse(raw, obj[head])
        return out
    if not dataclasses.is_dataclass(obj):
        raise UserError(f"{items[0][2]!r}: cannot descend into {type(obj).__name__}")
    fields, changes = [f.name for f in dataclasses.fields(obj)], {}
    for head, sub in _by_head(items).items():
        choose(f"config field in {sub[0][2]!r}", head, fields)
        value = getattr(obj, head)
        for path, raw, full in sub:  # a whole-field value first, then what goes below it
            if not path:
                value = _leaf(obj, head, value, raw)
        deeper = [item for item in sub if item[0]]
        changes[head] = _apply(value, deeper) if deeper else value
    return dataclasses.replace(obj, **changes)


def _leaf(obj, head: str, value, raw: str):
    if head == "pretrained" and raw.lower() == "null":  # random init from the component's arch config
        return None
    if isinstance(value, PretrainedSpec) and raw.lower() == "null":  # drop a vision encoder
        return None
    return _parse(raw, value)


def _by_head(items):
    """Group (path, raw, full) items by their path's first name, stripping it."""
    groups: dict[str, list] = {}
    for path, raw, full in items:
        groups.setdefault(path[0], []).append((path[1:], raw, full))
    return groups


def override(cfg: SGVLAConfig, assignments: list[str]) -> SGVLAConfig:
    """Apply "a.b.c=value" assignments; tables of named specs are indexed by name
    (e.g. "decoders.grasp.enabled=false", "inputs.cameras=head", "flow.enabled=true")."""
    items = []
    for item in assignments:
        if "=" not in item:
            raise UserError(f"override {item!r} must look like key.path=value")
        key, raw = item.split("=", 1)
        items.append((key.strip().split("."), raw.strip(), item))
    return _apply(cfg, items) if items else cfg
