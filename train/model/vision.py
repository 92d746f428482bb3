"""Fused vision backbone and projector: Prismatic's "dinosiglip" (DINOv2-with-registers + SigLIP), a
ConvNeXt, or any mix of them.

Input: images in [0, 1], (B, 3, H, W) (RGB, or an Eq. 1 depth image repeated on 3 channels), or with
`vision.stack_slots` every slot of a sample stacked on channels, (B, 3 x slots, H, W).
Images are resized (bilinear, antialiased) to `image_size` once, then normalised with each encoder's
mean/std; each encoder's patch features at `feature_layer` are taken (the layers after it are not
run; DINOv2's CLS + register tokens are dropped; a ConvNeXt stage's feature map is read row by row
as patch tokens), concatenated on channels, then projected to the LLM width by
Linear(F -> mult*F) GELU Linear(-> H) GELU Linear(H -> H).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hab_aux.errors import UserError
from hab_aux.train.model.configuration_sgvla import VisionConfig


@dataclass(frozen=True)
class EncoderKind:
    """How one transformers vision class is read: its blocks (what `feature_layer` counts), how a
    block is called, the leading non-patch tokens, and the stride and width of the features after
    `n` blocks."""

    blocks: Callable[[nn.Module], nn.ModuleList]
    run: Callable[[nn.Module, torch.Tensor], torch.Tensor]
    skip: Callable[[object], int]
    stride: Callable[[object, int], int]
    width: Callable[[object, int], int]
    as_tokens: Callable[[torch.Tensor], torch.Tensor] = lambda h: h


def _vit(blocks: Callable[[nn.Module], nn.ModuleList], skip: Callable[[object], int]) -> EncoderKind:
    return EncoderKind(blocks, lambda block, h: block(h, None), skip, lambda c, n: int(c.patch_size),
                       lambda c, n: int(c.hidden_size))  # fmt: skip


KINDS = {
    "dinov2": _vit(lambda m: m.encoder.layer, lambda c: 1 + int(getattr(c, "num_register_tokens", 0))),  # CLS + registers
    "siglip": _vit(lambda m: m.encoder.layers, lambda c: 0),
    # Stage 1 keeps the stem's resolution; every later stage halves it.
    "convnext": EncoderKind(
        blocks=lambda m: m.encoder.stages,
        run=lambda block, h: block(h),
        skip=lambda c: 0,
        stride=lambda c, n: int(c.patch_size) * 2 ** max(n - 1, 0),
        width=lambda c, n: int(c.hidden_sizes[max(n - 1, 0)]),
        as_tokens=lambda h: h.flatten(2).transpose(1, 2),
    ),
}


class Projector(nn.Sequential):
    """The MLP from fused patch features to the LLM width and, with `positions=(slots, patches)`
    (`vision.token_positions`), a learned embedding per image slot and patch that `embed` adds to the
    projected tokens (state-dict key `projector.positions`; absent otherwise, so older checkpoints load)."""

    def __init__(self, fused: int, hidden: int, mult: int, positions: tuple[int, int] | None = None):
        super().__init__(
            nn.Linear(fused, mult * fused), nn.GELU(), nn.Linear(mult * fused, hidden), nn.GELU(), nn.Linear(hidden, hidden)
        )
        self.positions = None if positions is None else nn.Parameter(torch.randn(*positions, hidden) * 0.02)

    def embed(self, feats: torch.Tensor, batch: int) -> torch.Tensor:
        """(batch * slots, patches, fused) -> (batch, slots * patches, hidden) image tokens."""
        tokens = self(feats.to(self[0].weight.dtype))
        tokens = tokens.reshape(batch, -1, *tokens.shape[1:])
        if self.positions is not None:
            tokens = tokens + self.positions.to(tokens.dtype)
        return tokens.flatten(1, 2)


class FusedVision(nn.Module):
    def __init__(self, cfg: VisionConfig, encoders: dict[str, nn.Module]):
        super().__init__()
        self.cfg = cfg
        for name, enc in encoders.items():
            self.add_module(name, enc)  # state-dict keys vision.NAME.*, as the components' own
        self.names = tuple(encoders)
        self.n_run = {}
        for name, enc in encoders.items():
            n = len(KINDS[name].blocks(enc)) + 1
            if not -n <= cfg.feature_layer < n:
                raise UserError(f"vision.feature_layer {cfg.feature_layer} is out of range for {name}'s {n - 1} blocks")
            self.n_run[name] = cfg.feature_layer % n
        strides = {name: KINDS[name].stride(enc.config, self.n_run[name]) for name, enc in encoders.items()}
        if len(set(strides.values())) != 1 or cfg.image_size % min(strides.values()):
            raise UserError(f"vision.image_size {cfg.image_size} must be a multiple of one patch stride shared by every "
                            f"encoder, got {strides}")  # fmt: skip
        self.stride = min(strides.values())
        for name, enc in encoders.items():
            repeats = int(enc.config.num_channels) // 3  # stacked slots (vision.stack_slots): one RGB triple per slot
            for stat in ("mean", "std"):
                value = torch.tensor(getattr(cfg, f"{name}_{stat}")).view(1, 3, 1, 1).repeat(1, repeats, 1, 1)
                self.register_buffer(f"{name}_{stat}", value, persistent=False)

    @property
    def encoders(self) -> dict[str, nn.Module]:
        return {name: getattr(self, name) for name in self.names}

    @property
    def fused_dim(self) -> int:
        return sum(KINDS[name].width(enc.config, self.n_run[name]) for name, enc in self.encoders.items())

    @property
    def patches_per_image(self) -> int:
        return (self.cfg.image_size // self.stride) ** 2

    def tokens_per_image(self, name: str) -> int:
        """Tokens a ViT encoder processes per image, its CLS and registers included (for 6NT FLOP counts)."""
        return self.patches_per_image + KINDS[name].skip(getattr(self, name).config)

    def blocks(self) -> list[nn.Module]:
        """Every encoder's blocks (FSDP wraps each as a unit)."""
        return [block for name, enc in self.encoders.items() for block in KINDS[name].blocks(enc)]

    def _resize(self, images: torch.Tensor) -> torch.Tensor:
        """Antialiased: a plain bilinear downscale drops thin structures such as a drawer handle."""
        s = self.cfg.image_size
        if images.shape[-2:] != (s, s):
            images = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        return images

    def _features(self, name: str, images: torch.Tensor) -> torch.Tensor:
        """The encoder's `hidden_states[feature_layer]` (0 = the embeddings) as (N, patches, width), running
        only the blocks up to it (Prismatic's second-to-last layer: the rest would be computed for nothing)."""
        kind, enc = KINDS[name], getattr(self, name)
        pixels = (images - getattr(self, f"{name}_mean")) / getattr(self, f"{name}_std")
        h = enc.embeddings(pixels.to(enc.dtype))
        for block in kind.blocks(enc)[: self.n_run[name]]:
            h = kind.run(block, h)
        return kind.as_tokens(h)[:, kind.skip(enc.config) :]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] (float16 from the processor) -> fused patch features (N, patches,
        summed encoder widths)."""
        images = self._resize(images.float())  # once: every encoder sees image_size pixels
        feats = [self._features(name, images) for name in self.names]
        if len({f.shape[1] for f in feats}) != 1:
            raise ValueError(f"the encoders give {[f.shape[1] for f in feats]} patches: their strides differ")
        return torch.cat([f.to(feats[0].dtype) for f in feats], dim=-1)
