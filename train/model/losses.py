"""Per-sample losses and masked means. A sample without a label has valid=False and contributes
nothing (its loss is multiplied out, never replaced by an invented target)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _per_sample(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).mean(1)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return _per_sample((pred - target.to(pred.dtype)) ** 2)


def bce(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on logits (the paper's "cross-entropy" for the binary grasp label)."""
    return _per_sample(F.binary_cross_entropy_with_logits(pred, target.to(pred.dtype).view_as(pred), reduction="none"))


def pose(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """||t^ - t||^2 + (1 - |q^.q|) for xyz + wxyz (both quaternions normalised here)."""
    target = target.to(pred.dtype)
    pred = torch.cat([pred[:, :3], F.normalize(pred[:, 3:], dim=-1)], dim=1)
    trans = ((pred[:, :3] - target[:, :3]) ** 2).sum(1)
    q = F.normalize(target[:, 3:], dim=-1)
    return trans + 1.0 - (pred[:, 3:] * q).sum(1).abs()


LOSSES = {"mse": mse, "bce": bce, "pose": pose, "bce_map": bce}


def masked_mean(per_sample: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean over valid samples; 0 (still in the graph) when none is valid."""
    valid = valid.to(torch.bool)
    total = torch.where(valid, per_sample, torch.zeros_like(per_sample)).sum()
    return total / valid.sum().clamp(min=1).to(per_sample.dtype)
