"""pi0-style flow-matching action expert.

Design choice: the expert CROSS-ATTENDS onto the VLM prefix's last hidden states (SmolVLA-like)
instead of sharing the LLM's layers and KV cache. The prefix (images + instruction) is encoded once
per inference; the 10 Euler steps only run this expert. Each block: self-attention over the action
chunk (bidirectional), cross-attention to the prefix (keys/values projected from the LLM width),
MLP; pre-norm, with the flow time injected by adding a sine-cos time embedding through an MLP.
With `state` (FlowConfig.state), the normalised robot state is projected and added to every action
token as well.

Conventions: t ~ Beta(1.5, 1) scaled to (t_min, 1]; x_t = t * noise + (1 - t) * action;
u = noise - action; loss = MSE(v(x_t, t), u). Sampling integrates dx/dt = v from t=1 to 0.

With `flow.objective="l1"` the same network regresses the chunk instead (OpenVLA-OFT's parallel
decoding): its action inputs are zeros at a fixed time, so each chunk position reads only its
learned position embedding (a query), and one pass gives the chunk, under an L1 loss. On a CPU
budget a regression target teaches far more per sample than a flow target does
(docs/small-results.md, session 16).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hab_aux.schema import ACTION_DIM, QPOS_NO_BASE
from hab_aux.train.model.configuration_sgvla import FlowConfig


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    ang = t.float()[:, None] * 1000.0 * freq[None]
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


def sample_time(cfg: FlowConfig, n: int, device=None) -> torch.Tensor:
    """n flow times, Beta(cfg.beta_a, cfg.beta_b) scaled to (cfg.t_min, 1]."""
    beta = torch.distributions.Beta(torch.tensor(cfg.beta_a), torch.tensor(cfg.beta_b))
    return (beta.sample((n,)) * (1.0 - cfg.t_min) + cfg.t_min).to(device)


def integrate(velocity, noise: torch.Tensor, steps: int) -> torch.Tensor:
    """Euler integration of dx/dt = velocity(x, t) from t=1 (noise) to t=0 in `steps` steps."""
    x, dt = noise, -1.0 / steps
    for i in range(steps):
        t = torch.full((x.shape[0],), 1.0 + i * dt, device=x.device)
        x = x + dt * velocity(x, t)
    return x


def _mean_over_valid_steps(err: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """err (B, K, chunk) per draw and step, valid (B, chunk) -> (B,): each draw's mean over the valid
    steps, then the mean over the K draws."""
    w = valid[:, None].to(err.dtype)
    return ((err * w).sum(-1) / w.sum(-1).clamp(min=1.0)).mean(1)


class ExpertBlock(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: int, cond_dim: int):
        super().__init__()
        self.n1, self.n2, self.n3 = nn.LayerNorm(width), nn.LayerNorm(width), nn.LayerNorm(width)
        self.self_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(width, heads, kdim=cond_dim, vdim=cond_dim, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width))

    def forward(self, x, prefix, prefix_pad, self_mask=None):
        h = self.n1(x)
        x = x + self.self_attn(h, h, h, attn_mask=self_mask, need_weights=False)[0]
        x = x + self.cross_attn(self.n2(x), prefix, prefix, key_padding_mask=prefix_pad, need_weights=False)[0]
        return x + self.mlp(self.n3(x))


class FlowExpert(nn.Module):
    def __init__(self, cfg: FlowConfig, cond_dim: int, action_dim: int = ACTION_DIM):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.action_in = nn.Linear(action_dim, w)
        self.time_mlp = nn.Sequential(nn.Linear(2 * w, w), nn.SiLU(), nn.Linear(w, w))
        self.pos = nn.Parameter(torch.randn(cfg.chunk, w) * 0.02)
        self.state_in = nn.Linear(len(QPOS_NO_BASE), w) if cfg.state else None
        self.cond_norm = nn.LayerNorm(cond_dim)
        self.blocks = nn.ModuleList(ExpertBlock(w, cfg.heads, cfg.mlp_ratio, cond_dim) for _ in range(cfg.depth))
        self.out_norm = nn.LayerNorm(w)
        self.action_out = nn.Linear(w, action_dim)

    def velocity(self, x_t, t, prefix, prefix_mask, state=None):
        """x_t (B, chunk, A), t (B,), prefix (B, T, cond), prefix_mask (B, T) True = valid, state (B, 12) or
        None -> v (B, chunk, A)."""
        return self.draws_velocity(x_t[:, None], t[:, None], prefix, prefix_mask, state)[:, 0]

    def draws_velocity(self, x_t, t, prefix, prefix_mask, state=None):
        """K draws per prefix: x_t (B, K, chunk, A), t (B, K) -> v (B, K, chunk, A). The K noisy chunks
        are one sequence of K * chunk tokens that attend only within their own chunk (a block-diagonal
        mask), so each draw's velocity is what `velocity` gives it alone, while the prefix's keys and
        values are projected once, not K times."""
        b, k, chunk, _ = x_t.shape
        te = time_embedding(t.flatten(), self.cfg.width).to(x_t.dtype).view(b, k, 1, -1)
        a = self.action_in(x_t) + self.pos[:chunk]
        x = self.time_mlp(torch.cat([a, te.expand_as(a)], dim=-1))
        if self.state_in is not None:
            if state is None:
                raise ValueError("flow.state is on: the expert needs the normalised robot state")
            x = x + self.state_in(state.to(x.dtype))[:, None, None]
        x = x.reshape(b, k * chunk, -1)
        own = torch.arange(k * chunk, device=x.device) // chunk
        self_mask = None if k == 1 else own[:, None] != own[None, :]
        cond, pad = self.cond_norm(prefix), ~prefix_mask.bool()
        for block in self.blocks:
            x = block(x, cond, pad, self_mask)
        return self.action_out(self.out_norm(x)).view(b, k, chunk, -1)

    def regress(self, prefix, prefix_mask, chunk: int, state=None):
        """objective "l1": the chunk in one pass, (B, chunk, A), from zero action inputs at time 0."""
        b = prefix.shape[0]
        queries = prefix.new_zeros(b, chunk, self.action_out.out_features)
        return self.velocity(queries, prefix.new_zeros(b), prefix, prefix_mask, state)

    def loss(self, actions, valid, prefix, prefix_mask, noise=None, t=None, state=None) -> torch.Tensor:
        """Per-sample loss over valid chunk steps: actions (B, chunk, A), valid (B, chunk).
        objective "l1": mean absolute error of `regress`. "flow": the flow-matching MSE, each sample drawn
        `noise_repeats` (K) times on its one prefix: `noise` (B, K, chunk, A) and `t` (B, K) when given;
        a sample's loss is the mean over its K draws."""
        if self.cfg.objective == "l1":
            err = (self.regress(prefix, prefix_mask, actions.shape[1], state) - actions).abs().mean(-1)
            return _mean_over_valid_steps(err[:, None], valid)
        b, k = actions.shape[0], self.cfg.noise_repeats
        actions = actions[:, None].expand(b, k, *actions.shape[1:])
        noise = torch.randn(actions.shape, dtype=actions.dtype, device=actions.device) if noise is None else noise
        t = sample_time(self.cfg, b * k, actions.device).view(b, k) if t is None else t
        tt = t[..., None, None].to(actions.dtype)
        x_t = tt * noise + (1.0 - tt) * actions
        err = ((self.draws_velocity(x_t, t, prefix, prefix_mask, state) - (noise - actions)) ** 2).mean(-1)
        return _mean_over_valid_steps(err, valid)

    @torch.no_grad()
    def sample(self, prefix, prefix_mask, noise, steps: int, state=None) -> torch.Tensor:
        """Euler integration from t=1 (noise) to t=0 in `steps` steps -> (B, chunk, A). The caller
        passes `flow.steps` from the model's config, an inference setting `eval --set` may change.
        objective "l1" uses neither: the chunk is `regress`ed in one pass."""
        if self.cfg.objective == "l1":
            return self.regress(prefix, prefix_mask, noise.shape[1], state)
        return integrate(lambda x, t: self.velocity(x, t, prefix, prefix_mask, state), noise, steps)
