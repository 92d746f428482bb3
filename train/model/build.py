"""Build an `SGVLAModel` from a config: real `from_pretrained` (hub id or local folder) for every
component that names one, random weights from its `arch` dict otherwise, or everything on the
`meta` device (no weights, no download) for parameter counts."""

from __future__ import annotations

from collections import OrderedDict

import torch

from hab_aux.errors import UserError
from hab_aux.train.model.action_tokenizer import ActionStats, ProprioStats, action_token_names
from hab_aux.train.model.configuration_sgvla import PretrainedSpec, SGVLAConfig
from hab_aux.train.model.modeling_sgvla import SGVLAModel
from hab_aux.train.model.processor import SGVLAProcessor
from hab_aux.train.model.tokenizer import add_action_tokens, load_tokenizer
from hab_aux.train.model.weights import load_pretrained_part


def _classes():
    from transformers import (
        ConvNextConfig,
        ConvNextModel,
        Dinov2WithRegistersConfig,
        Dinov2WithRegistersModel,
        Qwen2Config,
        Qwen2ForCausalLM,
        SiglipVisionConfig,
        SiglipVisionModel,
    )

    return {
        "dinov2": (Dinov2WithRegistersConfig, Dinov2WithRegistersModel),
        "siglip": (SiglipVisionConfig, SiglipVisionModel),
        "convnext": (ConvNextConfig, ConvNextModel),
        "llm": (Qwen2Config, Qwen2ForCausalLM),
    }


# Applied on top of any loaded config: Prismatic uses SigLIP's patch tokens, not its pooling head.
LOAD_OVERRIDES = {"siglip": {"vision_use_head": False}}


def build_component(kind: str, spec: PretrainedSpec, meta: bool = False, channels: int | None = None):
    """`channels`: input channels other than 3 (`vision.stack_slots`): built so from `arch`, or loaded
    from weights that were (a saved checkpoint's); pretrained RGB weights are a user error."""
    config_cls, model_cls = _classes()[kind]
    overrides = LOAD_OVERRIDES.get(kind, {})
    if spec.pretrained is not None and not meta:
        # transformers 5 defaults to dtype="auto" (bf16 for Qwen2.5): load fp32 masters, train under autocast.
        model = load_pretrained_part(kind, spec.pretrained,
                                     lambda source: model_cls.from_pretrained(source, dtype=torch.float32, **overrides))  # fmt: skip
        if channels is not None and model.config.num_channels != channels:
            raise UserError(f"vision.stack_slots needs {kind} built for {channels} input channels, but {spec.pretrained!r} "
                            f"has {model.config.num_channels}; give it an arch instead or set vision.stack_slots=false")  # fmt: skip
        return model
    config = config_cls(**{**spec.arch, **overrides, **({} if channels is None else {"num_channels": channels})})
    if meta:
        with torch.device("meta"):
            return model_cls(config)
    return model_cls(config)


def _init_new_rows(llm, ids: list[int], n_old: int) -> None:
    """New action-token embeddings: mean + std-scaled noise of the pre-existing rows (tied head follows)."""
    with torch.no_grad():
        w = llm.get_input_embeddings().weight
        old = w[:n_old].float()
        noise = torch.randn(len(ids), w.shape[1]) * old.std(0, keepdim=True)
        w[ids] = (old.mean(0, keepdim=True) + noise).to(w.dtype)
        out = llm.get_output_embeddings()
        if out is not None and out.weight.data_ptr() != w.data_ptr():
            out.weight[ids] = w[ids]


def _encoders(config: SGVLAConfig, meta: bool = False) -> dict:
    channels = 3 * len(config.inputs.image_slots()) if config.vision.stack_slots else None
    return {k: build_component(k, spec, meta, channels) for k, spec in config.vision.encoders().items()}


def build_model(config: SGVLAConfig, stats: ActionStats | None = None, proprio_stats: ProprioStats | None = None) -> SGVLAModel:
    """Load or build every component, add the action tokens, resize the embeddings if needed."""
    encoders = _encoders(config)
    llm = build_component("llm", config.llm.model)
    tokenizer = load_tokenizer(config.llm.tokenizer)
    n_before = len(tokenizer)
    ids, added = add_action_tokens(tokenizer, action_token_names(config.llm.action_token_format, config.action.n_bins))
    if len(tokenizer) > llm.get_input_embeddings().weight.shape[0]:
        llm.resize_token_embeddings(len(tokenizer), pad_to_multiple_of=64, mean_resizing=False)
    if added:
        _init_new_rows(llm, ids, n_before)
    model = SGVLAModel(config, encoders, llm, ids)
    model.tokenizer, model.stats, model.proprio_stats = tokenizer, stats, proprio_stats
    return model


def build_meta_model(config: SGVLAConfig) -> SGVLAModel:
    """Every component on `meta` from its `arch` dict: shapes and parameter counts, no weights, no download."""
    encoders = _encoders(config, meta=True)
    llm = build_component("llm", config.llm.model, meta=True)
    with torch.device("meta"):
        return SGVLAModel(config, encoders, llm, None)


def make_processor(model: SGVLAModel) -> SGVLAProcessor:
    return SGVLAProcessor(model.config, model.tokenizer, model.stats, model.action_token_ids.tolist(), model.proprio_stats)


def parameter_counts(model: SGVLAModel) -> OrderedDict[str, int]:
    counts = OrderedDict((name, sum(p.numel() for p in m.parameters())) for name, m in model.components().items())
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts
