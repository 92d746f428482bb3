"""Fused DINOv2-with-registers + SigLIP vision backbone and projector (Prismatic "dinosiglip").

Input: images in [0, 1], (B, 3, H, W) (RGB, or an Eq. 1 depth image repeated on 3 channels).
Each encoder gets its own preprocessing (bilinear resize to `image_size`, its own mean/std);
patch features of `feature_layer` are taken from both, DINOv2's CLS + register tokens are dropped,
and the two are concatenated on channels, then projected to the LLM width by
Linear(F -> mult*F) GELU Linear(-> H) GELU Linear(H -> H).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hab_aux.train.model.configuration_sgvla import VisionConfig


class Projector(nn.Sequential):
    def __init__(self, fused: int, hidden: int, mult: int):
        super().__init__(
            nn.Linear(fused, mult * fused), nn.GELU(), nn.Linear(mult * fused, hidden), nn.GELU(), nn.Linear(hidden, hidden)
        )


class FusedVision(nn.Module):
    def __init__(self, cfg: VisionConfig, dinov2: nn.Module, siglip: nn.Module):
        super().__init__()
        self.cfg = cfg
        self.dinov2, self.siglip = dinov2, siglip
        self.n_skip = 1 + int(getattr(dinov2.config, "num_register_tokens", 0))  # CLS + registers
        for name in ("dinov2_mean", "dinov2_std", "siglip_mean", "siglip_std"):
            self.register_buffer(name, torch.tensor(getattr(cfg, name)).view(1, 3, 1, 1), persistent=False)

    @property
    def fused_dim(self) -> int:
        return self.dinov2.config.hidden_size + self.siglip.config.hidden_size

    @property
    def patches_per_image(self) -> int:
        return (self.cfg.image_size // 14) ** 2

    def _prep(self, images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        s = self.cfg.image_size
        if images.shape[-2:] != (s, s):
            images = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False, antialias=False)
        return (images - mean) / std

    def _run(self, encoder: nn.Module, pixels: torch.Tensor):
        return encoder(pixel_values=pixels.to(encoder.dtype), output_hidden_states=True)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> fused patch features (N, patches, dinov2 + siglip width)."""
        layer = self.cfg.feature_layer
        d = self._run(self.dinov2, self._prep(images, self.dinov2_mean, self.dinov2_std))
        s = self._run(self.siglip, self._prep(images, self.siglip_mean, self.siglip_std))
        d_feat = d.hidden_states[layer][:, self.n_skip :]
        s_feat = s.hidden_states[layer]
        if d_feat.shape[1] != s_feat.shape[1]:
            raise ValueError(f"DINOv2 gives {d_feat.shape[1]} patches, SigLIP {s_feat.shape[1]}: patch sizes differ")
        return torch.cat([d_feat, s_feat.to(d_feat.dtype)], dim=-1)
