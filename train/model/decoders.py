"""Auxiliary decoders on the LLM's last hidden states (sgvla.md Table 1).

Architectures are looked up by `DecoderSpec.kind` in `DECODER_KINDS`; every decoder maps
(latents (B, T, H), valid token mask (B, T)) -> a prediction shaped like its target (B, *shape).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from hab_aux.train.model.configuration_sgvla import DecoderSpec


def sincos(n: int, dim: int, device=None) -> torch.Tensor:
    """(n, dim) fixed sine-cosine positional encoding."""
    pos = torch.arange(n, dtype=torch.float32, device=device)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    pe = torch.zeros(n, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)[:, : dim // 2]
    return pe


def masked_avg(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    w = mask.to(x.dtype).unsqueeze(-1)
    return (x * w).sum(1) / w.sum(1).clamp(min=1.0)


def mlp(width: int, out: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    for _ in range(layers - 1):
        mods += [nn.Linear(width, width), nn.GELU()]
    return nn.Sequential(*mods, nn.Linear(width, out))


class PooledMLP(nn.Module):
    """Proj H -> width per token, average pooling over valid tokens, `layers`-layer MLP."""

    def __init__(self, spec: DecoderSpec, hidden: int):
        super().__init__()
        self.shape = spec.target_shape
        self.proj = nn.Linear(hidden, spec.width)
        self.mlp = mlp(spec.width, math.prod(self.shape) or 1, spec.layers)

    def forward(self, latents, mask):
        return self.mlp(masked_avg(self.proj(latents), mask)).view(-1, *self.shape)


class QueryTransformer(nn.Module):
    """One learnable mask token per output dim, appended to the projected latents; a small
    transformer encoder (sine-cos positions) reads them out, one scalar per query."""

    def __init__(self, spec: DecoderSpec, hidden: int):
        super().__init__()
        self.n = math.prod(spec.target_shape)
        self.proj = nn.Linear(hidden, spec.width)
        self.queries = nn.Parameter(torch.randn(self.n, spec.width) * 0.02)
        heads = max(1, spec.width // 64) if spec.width % 64 == 0 else (2 if spec.width % 2 == 0 else 1)
        layer = nn.TransformerEncoderLayer(
            spec.width, heads, 4 * spec.width, dropout=0.0, batch_first=True, norm_first=True, activation="gelu"
        )
        self.encoder = nn.TransformerEncoder(layer, spec.layers, enable_nested_tensor=False)
        self.head = nn.Linear(spec.width, 1)

    def forward(self, latents, mask):
        b, t, _ = latents.shape
        x = torch.cat([self.proj(latents), self.queries.expand(b, -1, -1)], dim=1)
        x = x + sincos(t + self.n, x.shape[-1], x.device).to(x.dtype)
        pad = torch.cat([~mask.bool(), torch.zeros(b, self.n, dtype=torch.bool, device=mask.device)], dim=1)
        return self.head(self.encoder(x, src_key_padding_mask=pad)[:, t:]).squeeze(-1)


class DeconvMask(nn.Module):
    """Image tokens (B, g*g, H) -> grid -> `layers` stages of (ConvTranspose x2, BatchNorm, GELU)
    -> 1x1 conv -> logits, resized bilinearly to the target's (h, w) when the grid does not hit it."""

    def __init__(self, spec: DecoderSpec, hidden: int):
        super().__init__()
        self.shape = spec.target_shape
        self.proj = nn.Linear(hidden, spec.width)
        stages, c = [], spec.width
        for _ in range(spec.layers):
            c_out = max(8, c // 2)
            stages += [nn.ConvTranspose2d(c, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.GELU()]
            c = c_out
        self.up = nn.Sequential(*stages, nn.Conv2d(c, 1, 1))

    def forward(self, latents, mask):
        b, t, _ = latents.shape
        g = math.isqrt(t)
        if g * g != t:
            raise ValueError(f"mask decoder needs a square token grid, got {t} tokens")
        x = self.proj(latents).transpose(1, 2).reshape(b, -1, g, g)
        x = self.up(x)
        if tuple(x.shape[-2:]) != tuple(self.shape):
            x = F.interpolate(x, size=self.shape, mode="bilinear", align_corners=False)
        return x[:, 0]


DECODER_KINDS = {"pooled_mlp": PooledMLP, "query_transformer": QueryTransformer, "deconv": DeconvMask}


def build_decoders(specs: tuple[DecoderSpec, ...], hidden: int) -> nn.ModuleDict:
    return nn.ModuleDict({s.name: DECODER_KINDS[s.kind](s, hidden) for s in specs if s.enabled})
