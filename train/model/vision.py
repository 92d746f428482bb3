"""Fused DINOv2-with-registers + SigLIP vision backbone and projector (Prismatic "dinosiglip").

Input: images in [0, 1], (B, 3, H, W) (RGB, or an Eq. 1 depth image repeated on 3 channels).
Images are resized (bilinear, antialiased) to `image_size` once, then normalised with each encoder's mean/std;
patch features of `feature_layer` are taken from both (the layers after it are not run), DINOv2's
CLS + register tokens are dropped, and the two are concatenated on channels, then projected to the
LLM width by Linear(F -> mult*F) GELU Linear(-> H) GELU Linear(H -> H).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hab_aux.errors import UserError
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
        patches = {int(dinov2.config.patch_size), int(siglip.config.patch_size)}
        if len(patches) != 1 or cfg.image_size % min(patches):
            raise UserError(f"vision.image_size {cfg.image_size} must be a multiple of one patch size shared by "
                            f"DINOv2 and SigLIP, got patch sizes {sorted(patches)}")  # fmt: skip
        for name in ("dinov2_mean", "dinov2_std", "siglip_mean", "siglip_std"):
            self.register_buffer(name, torch.tensor(getattr(cfg, name)).view(1, 3, 1, 1), persistent=False)

    @property
    def fused_dim(self) -> int:
        return self.dinov2.config.hidden_size + self.siglip.config.hidden_size

    @property
    def patch_size(self) -> int:
        return int(self.dinov2.config.patch_size)

    @property
    def patches_per_image(self) -> int:
        return (self.cfg.image_size // self.patch_size) ** 2

    def _resize(self, images: torch.Tensor) -> torch.Tensor:
        """Antialiased: a plain bilinear downscale drops thin structures such as a drawer handle."""
        s = self.cfg.image_size
        if images.shape[-2:] != (s, s):
            images = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        return images

    def _features(self, encoder: nn.Module, layers: nn.ModuleList, pixels: torch.Tensor) -> torch.Tensor:
        """The encoder's `hidden_states[feature_layer]` (0 = patch embeddings), running only the layers up to it
        (Prismatic's second-to-last layer: the last layer and the final norm would be computed for nothing)."""
        n = len(layers) + 1
        if not -n <= self.cfg.feature_layer < n:
            raise UserError(f"vision.feature_layer {self.cfg.feature_layer} is out of range for {n - 1} encoder layers")
        h = encoder.embeddings(pixels.to(encoder.dtype))
        for layer in layers[: self.cfg.feature_layer % n]:
            h = layer(h, None)
        return h

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> fused patch features (N, patches, dinov2 + siglip width)."""
        images = self._resize(images)  # once: both encoders see image_size pixels
        d_feat = self._features(self.dinov2, self.dinov2.encoder.layer, (images - self.dinov2_mean) / self.dinov2_std)
        s_feat = self._features(self.siglip, self.siglip.encoder.layers, (images - self.siglip_mean) / self.siglip_std)
        d_feat = d_feat[:, self.n_skip :]
        if d_feat.shape[1] != s_feat.shape[1]:
            raise ValueError(f"DINOv2 gives {d_feat.shape[1]} patches, SigLIP {s_feat.shape[1]}: patch sizes differ")
        return torch.cat([d_feat, s_feat.to(d_feat.dtype)], dim=-1)
