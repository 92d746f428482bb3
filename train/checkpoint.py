"""SG-VLA checkpoints: one folder, loaded through the same `from_pretrained` path as hub weights.

    config.json        SGVLAConfig, component paths pointing at the subfolders below
    norm_stats.json    ActionStats (required: loading without it fails)
    proprio_stats.json ProprioStats (required when inputs.proprio)
    dinov2/ siglip/ convnext/ llm/   each configured component's own `save_pretrained`
    tokenizer/         the tokenizer with its action tokens
    model.safetensors  projector, proprio encoder, flow expert, decoders (and their BatchNorm buffers)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from hab_aux.errors import UserError
from hab_aux.train.model.action_tokenizer import NORM_STATS_FILE, ActionStats, ProprioStats
from hab_aux.train.model.build import build_model
from hab_aux.train.model.configuration_sgvla import PretrainedSpec, SGVLAConfig
from hab_aux.train.model.modeling_sgvla import SGVLAModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
OWN_MODULES = ("projector", "proprio", "flow", "decoders")


def _own_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in state.items() if k.split(".", 1)[0] in OWN_MODULES}


def _under(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def _tied_as_one(model: SGVLAModel, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Names of one parameter (the tied LM head and input embeddings) point at one tensor, as in
    `model.state_dict()`, so each component's `save_pretrained` stores it once."""
    names: dict[int, list[str]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(p), []).append(name)
    state = dict(state)
    for first, *others in names.values():
        state.update({name: state[first] for name in others})
    return state


def save_pretrained(model: SGVLAModel, folder: str | Path, state: dict[str, torch.Tensor] | None = None) -> Path:
    """`state`: the model's full state dict, when the model itself holds shards (FSDP); else its own."""
    if model.stats is None:
        raise ValueError("model.stats is None: a checkpoint must carry ActionStats (ActionStats.from_data(actions))")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = _tied_as_one(model, model.state_dict() if state is None else state)
    for name, component in {**model.vision.encoders, "llm": model.llm}.items():
        prefix = "llm." if name == "llm" else f"vision.{name}."
        component.save_pretrained(folder / name, state_dict=_under(state, prefix))
    if model.config.inputs.proprio and model.proprio_stats is None:
        raise ValueError("inputs.proprio is on but model.proprio_stats is None: a checkpoint must carry ProprioStats")
    model.tokenizer.save_pretrained(folder / "tokenizer")
    save_file(_own_state(state), str(folder / WEIGHTS_FILE))
    model.stats.save(folder)
    if model.config.inputs.proprio:
        model.proprio_stats.save(folder)
    cfg = model.config
    cfg = cfg.replace(
        vision=dataclasses.replace(cfg.vision, **{k: PretrainedSpec(k, spec.arch) for k, spec in cfg.vision.encoders().items()}),
        llm=dataclasses.replace(cfg.llm, model=PretrainedSpec("llm", cfg.llm.model.arch), tokenizer="tokenizer"),
    )
    (folder / CONFIG_FILE).write_text(cfg.to_json())
    return folder


def load_config(folder: str | Path) -> SGVLAConfig:
    """The checkpoint's config with its relative component paths resolved against `folder`."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise UserError(f"{folder} is not an SG-VLA checkpoint: {CONFIG_FILE} is missing")
    cfg = SGVLAConfig.from_dict(json.loads(path.read_text()))

    def resolve(spec: PretrainedSpec) -> PretrainedSpec:
        local = spec.pretrained is not None and (folder / spec.pretrained).exists()
        return PretrainedSpec(str(folder / spec.pretrained), spec.arch) if local else spec

    tok = str(folder / cfg.llm.tokenizer) if (folder / cfg.llm.tokenizer).exists() else cfg.llm.tokenizer
    return cfg.replace(
        vision=dataclasses.replace(cfg.vision, **{k: resolve(spec) for k, spec in cfg.vision.encoders().items()}),
        llm=dataclasses.replace(cfg.llm, model=resolve(cfg.llm.model), tokenizer=tok),
    )


def quiet_transformers() -> None:
    """transformers draws a progress bar per component saved or loaded; ours are the only ones shown."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def load_pretrained(folder: str | Path, device: str | torch.device = "cpu") -> SGVLAModel:
    quiet_transformers()
    folder = Path(folder)
    cfg = load_config(folder)
    stats = ActionStats.load(folder)  # fails loudly without norm_stats.json
    proprio_stats = ProprioStats.load(folder) if cfg.inputs.proprio else None  # likewise
    model = build_model(cfg, stats, proprio_stats)
    state = load_file(str(folder / WEIGHTS_FILE))
    expected = set(_own_state(model.state_dict()))
    if set(state) != expected:
        missing, extra = sorted(expected - set(state))[:5], sorted(set(state) - expected)[:5]
        raise ValueError(f"{folder / WEIGHTS_FILE} does not match the config: missing {missing}, unexpected {extra}")
    for name in OWN_MODULES:
        module = getattr(model, name)
        if module is not None:
            prefix = f"{name}."
            module.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}, strict=True)
    return model.to(device).eval()


def load_weights(model: SGVLAModel, folder: str | Path) -> None:
    """Copy a checkpoint's weights into `model` (`habaux train --init-from`): fine-tuning a trained
    policy on new data, or continuing a finished run under a new schedule. Every parameter and
    buffer must match by name and shape; the action and proprio statistics stay the run's own (from
    its --data), as in any run."""
    source = load_pretrained(folder).state_dict()
    target = model.state_dict()
    differ = sorted(k for k in source.keys() | target.keys() if k not in source or k not in target or source[k].shape != target[k].shape)
    if differ:
        raise UserError(f"--init-from {folder}: its weights do not fit this run's model (the architecture differs in "
                        f"{len(differ)} tensors, first {differ[:3]}); give a checkpoint of the same preset and --set overrides")
    model.load_state_dict(source)


__all__ = ["save_pretrained", "load_pretrained", "load_weights", "load_config", "NORM_STATS_FILE"]
