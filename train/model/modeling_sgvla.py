"""SG-VLA: fused vision -> projector -> Qwen2 LLM, with action tokens, an optional flow expert and
auxiliary decoders on the LLM's last hidden states.

Sequence: [vision tokens of every image slot][proprio token, optional][left-padded prompt]
[action.chunk x 13 action tokens][eos].
Positions come from the attention mask (padding sits between the image tokens and the prompt,
so no query row is fully masked). `forward(batch, stage)` applies the stage's gradient routing
(`StageSpec`): trainable components, detached decoder inputs, which losses count.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hab_aux.errors import UserError
from hab_aux.schema import ACTION_DIM, QPOS_NO_BASE
from hab_aux.train.model.configuration_sgvla import VISION_ENCODERS, DecoderSpec, SGVLAConfig, StageSpec
from hab_aux.train.model.decoders import build_decoders
from hab_aux.train.model.flow_expert import FlowExpert
from hab_aux.train.model.image_slot import ImageSlot
from hab_aux.train.model.losses import LOSSES, masked_mean
from hab_aux.train.model.processor import SGVLABatch
from hab_aux.train.model.vision import FusedVision, Projector

BACKBONE = (*VISION_ENCODERS, "projector", "proprio", "llm")


@dataclass
class Encoded:
    hidden: torch.Tensor  # (B, T, H) LLM last hidden states
    attention_mask: torch.Tensor  # (B, T) bool
    prefix_mask: torch.Tensor  # (B, T) bool: image tokens + real prompt tokens
    cache: object = None  # the LLM's KV cache, with use_cache


class SGVLAModel(nn.Module):
    def __init__(self, config: SGVLAConfig, encoders: dict[str, nn.Module], llm: nn.Module, action_token_ids=None):
        super().__init__()
        config.check_inputs()
        self.config = config
        self.vision = FusedVision(config.vision, encoders)
        hidden = llm.config.hidden_size
        self.slots = config.inputs.image_slots()
        self.encoded_images = 1 if config.vision.stack_slots else len(self.slots)  # images the encoders see per sample
        positions = (self.encoded_images, self.vision.patches_per_image) if config.vision.token_positions else None
        self.projector = Projector(self.vision.fused_dim, hidden, config.vision.projector_mult, positions)
        self.proprio = nn.Sequential(nn.Linear(len(QPOS_NO_BASE), hidden), nn.GELU(), nn.Linear(hidden, hidden)) \
            if config.inputs.proprio else None  # fmt: skip
        self.llm = llm
        # transformers 5 renamed the KV cache argument and output `past_key_values` -> `cache` (the old
        # name warns on every call and goes in 5.40); older versions only know `past_key_values`.
        self._cache_name = "cache" if "cache" in inspect.signature(llm.model.forward).parameters else "past_key_values"
        self.flow = FlowExpert(config.flow, hidden) if config.flow.enabled else None
        self.decoders = build_decoders(config.decoders, hidden)
        ids = torch.tensor(action_token_ids if action_token_ids is not None else [], dtype=torch.long)
        self.register_buffer("action_token_ids", ids, persistent=False)
        self.stats = None  # ActionStats, set by build_model / load
        self.proprio_stats = None  # ProprioStats when inputs.proprio, likewise
        self.tokenizer = None

    # ---- components and stages -----------------------------------------------------------
    def components(self) -> dict[str, nn.Module]:
        comps = {**self.vision.encoders, "projector": self.projector, "llm": self.llm}
        if self.proprio is not None:
            comps["proprio"] = self.proprio
        if self.flow is not None:
            comps["flow"] = self.flow
        for name, dec in self.decoders.items():
            comps[f"decoder.{name}"] = dec
        return comps

    def set_stage(self, stage: StageSpec) -> list[nn.Parameter]:
        """requires_grad follows `stage.trainable` ("decoders" covers every decoder); returns trainable params."""
        for name, module in self.components().items():
            group = "decoders" if name.startswith("decoder.") else name
            module.requires_grad_(group in stage.trainable)
        return [p for p in self.parameters() if p.requires_grad]

    def _stage(self, stage: str | StageSpec) -> StageSpec:
        return stage if isinstance(stage, StageSpec) else self.config.stage(stage)

    # ---- prefix encoding -----------------------------------------------------------------
    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        """(B, slots, 3, H, W) -> (B, encoded_images * patches, hidden) image tokens."""
        images = images.flatten(1, 2)[:, None] if self.config.vision.stack_slots else images
        return self.projector.embed(self.vision(images.flatten(0, 1)), images.shape[0])

    def encode(self, batch: SGVLABatch, use_cache: bool = False) -> Encoded:
        """Prefix: image tokens, the proprio token (when inputs.proprio), then the prompt."""
        vis = self.embed_images(batch.images)
        if self.proprio is not None:
            if batch.proprio is None:
                raise UserError("inputs.proprio is on but the batch has no proprio (SGVLAProcessor adds it from qpos)")
            state = self.proprio(batch.proprio.to(self.proprio[0].weight.dtype))[:, None]
            vis = torch.cat([vis, state.to(vis.dtype)], dim=1)
        txt = self.llm.get_input_embeddings()(batch.input_ids)
        embeds = torch.cat([vis.to(txt.dtype), txt], dim=1)
        ones = torch.ones(vis.shape[:2], dtype=torch.bool, device=vis.device)
        attn = torch.cat([ones, batch.attention_mask], dim=1)
        prefix = torch.cat([ones, batch.prefix_mask], dim=1)
        position_ids = (attn.long().cumsum(1) - 1).clamp(min=0)
        out = self.llm.model(inputs_embeds=embeds, attention_mask=attn.long(), position_ids=position_ids, use_cache=use_cache)
        return Encoded(out.last_hidden_state, attn, prefix, getattr(out, self._cache_name) if use_cache else None)

    def decoder_inputs(self, enc: Encoded, spec: DecoderSpec) -> tuple[torch.Tensor, torch.Tensor]:
        """The latents decoder `spec` reads: the whole prefix, or the tokens of one current image (with
        `vision.stack_slots`, of the one stacked image, which holds every slot)."""
        if spec.image_key is None:
            return enc.hidden, enc.prefix_mask
        slot = 0 if self.config.vision.stack_slots else self.slots.index(ImageSlot.current(spec.image_key))
        p = self.vision.patches_per_image
        h = enc.hidden[:, slot * p : (slot + 1) * p]
        return h, torch.ones(h.shape[:2], dtype=torch.bool, device=h.device)

    # ---- training ------------------------------------------------------------------------
    def forward(self, batch: SGVLABatch, stage: str | StageSpec) -> dict[str, torch.Tensor]:
        """Named losses of the stage plus "total" (= tokens + flow + sum of lambda_k * decoder_k)."""
        stage = self._stage(stage)
        self.set_stage(stage)
        if "flow" in stage.losses and self.flow is None:
            raise UserError(f"stage {stage.name!r} trains the flow expert but flow.enabled is false")
        if "tokens" in stage.losses and batch.labels is None:
            raise UserError(f"stage {stage.name!r} needs action labels: build the batch with with_actions=True")
        if "flow" in stage.losses and batch.action_chunk is None:
            raise UserError(f"stage {stage.name!r} needs flow targets: build the batch with with_actions=True")
        missing = [d.name for d in self.config.enabled_decoders if d.name not in batch.targets]
        if "aux" in stage.losses and missing:
            raise UserError(f"stage {stage.name!r} needs decoder targets for {', '.join(missing)}")
        backbone_trains = any(c in stage.trainable for c in BACKBONE)
        with torch.set_grad_enabled(backbone_trains and torch.is_grad_enabled()):
            enc = self.encode(batch)
        losses: dict[str, torch.Tensor] = {}
        if "tokens" in stage.losses:
            losses["tokens"] = self.token_loss(enc, batch.labels)
        if "flow" in stage.losses:
            per = self.flow.loss(batch.action_chunk, batch.action_chunk_valid, enc.hidden, enc.prefix_mask, state=batch.proprio)
            losses["flow"] = masked_mean(per, batch.action_chunk_valid.any(1))
        total = sum(losses.values()) if losses else enc.hidden.sum() * 0.0
        if "aux" in stage.losses:
            for spec in self.config.enabled_decoders:
                latents, mask = self.decoder_inputs(enc, spec)
                if stage.detach_decoder_inputs:
                    latents = latents.detach()
                pred = self.decoders[spec.name](latents, mask)
                per = LOSSES[spec.loss](pred, batch.targets[spec.name])
                losses[spec.name] = masked_mean(per, batch.target_valid[spec.name])
                total = total + spec.weight * losses[spec.name]
        losses["total"] = total
        return losses

    def token_loss(self, enc: Encoded, labels: torch.Tensor) -> torch.Tensor:
        n_vis = enc.hidden.shape[1] - labels.shape[1]
        full = F.pad(labels, (n_vis, 0), value=-100)
        sel = full[:, 1:] != -100
        logits = self.llm.lm_head(enc.hidden[:, :-1][sel])
        return F.cross_entropy(logits.float(), full[:, 1:][sel])

    # ---- inference -----------------------------------------------------------------------
    @torch.no_grad()
    def predict_action_bins(self, batch: SGVLABatch) -> torch.Tensor:
        """Greedy decoding of action.chunk * 13 tokens, restricted to the action tokens, with a KV cache ->
        bin indices (B, chunk * 13), step by step. Only the LM head's rows of the action tokens are
        computed: the logits the full head would give them."""
        if self.action_token_ids.numel() == 0:
            raise ValueError("model has no action tokens (built on meta?)")
        enc = self.encode(batch, use_cache=True)
        cache, attn, hidden = enc.cache, enc.attention_mask, enc.hidden[:, -1]
        pos = attn.long().sum(1, keepdim=True) - 1
        head = self.llm.lm_head
        weight = head.weight[self.action_token_ids]
        bias = None if head.bias is None else head.bias[self.action_token_ids]
        embed, bins, n = self.llm.get_input_embeddings(), [], ACTION_DIM * self.config.action.chunk
        for step in range(n):
            idx = F.linear(hidden, weight, bias).argmax(-1)
            bins.append(idx)
            if step == n - 1:
                break
            attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)
            pos = pos + 1
            out = self.llm.model(
                inputs_embeds=embed(self.action_token_ids[idx])[:, None],
                attention_mask=attn.long(), position_ids=pos, use_cache=True, **{self._cache_name: cache},
            )  # fmt: skip
            cache, hidden = getattr(out, self._cache_name), out.last_hidden_state[:, -1]
        return torch.stack(bins, dim=1)

    @torch.no_grad()
    def predict_flow(self, batch: SGVLABatch, noise: torch.Tensor | None = None, generator=None) -> torch.Tensor:
        """Normalised action chunk (B, chunk, 13): prefix encoded once, then `steps` Euler steps of the expert."""
        if self.flow is None:
            raise UserError("flow.enabled is false: this model has no flow-matching expert")
        enc = self.encode(batch)
        if noise is None:
            shape = (len(batch), self.config.flow.chunk, ACTION_DIM)
            noise = torch.randn(shape, generator=generator)
        dtype = self.flow.action_in.weight.dtype
        return self.flow.sample(enc.hidden.to(dtype), enc.prefix_mask, noise.to(enc.hidden.device, dtype), self.config.flow.steps,
                                batch.proprio)  # fmt: skip

    @torch.no_grad()
    def predict_aux(self, batch: SGVLABatch) -> dict[str, torch.Tensor]:
        enc = self.encode(batch)
        return {s.name: self.decoders[s.name](*self.decoder_inputs(enc, s)) for s in self.config.enabled_decoders}
