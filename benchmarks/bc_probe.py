"""A plain behaviour-cloning baseline: is the data learnable by *any* small policy, in closed loop?

Run: .venv/bin/python benchmarks/bc_probe.py --data data/SetTable-240,data/SetTable-noise-80 [--minutes 20 | --steps N] [--episodes 10] [--val 30] [--no-proprio] [--seed S] [--execute 2,8,ensemble] [--save probe.pt] [--load probe.pt] [--dagger ROUNDS] [--subtasks place] [--head l1|flow|tokens] [--flow-repeats K]

Not SG-VLA: a GroupNorm CNN on the four images (head and hand RGB and depth, area-resized to 64 px,
stacked as 8 channels), the normalised joint positions and a one-hot of the column, regressing
chunks of 8 normalised actions with an L1 loss; in closed loop it executes the first 2 of each chunk,
then re-plans, as the flow head (`--execute`: other counts, or ACT's temporal ensembling; the one
trained net is evaluated once per setting). Before the closed loop it reports how well the net fits
the evaluated episodes' own frames open loop, by step of the episode and by column. `--dagger R` adds R DAgger rounds
(probe_dagger.py: the probe drives on new layouts, the expert labels what it reaches) before the closed loop.
`--head flow` or `--head tokens` trains the same net with SG-VLA's flow-matching or binned-token
loss instead of the L1 regression: how much of the gap between SG-VLA and the probe is the loss;
`--flow-repeats K` draws K flow (noise, time) pairs per sample (SG-VLA's `flow.noise_repeats`).
It is the issue-15 probe (0.085 held-out L1 in 60 s), run to convergence on every column and then
evaluated closed loop on its own training episodes (the first `--episodes` per column of the first
dataset), the same episodes as `habaux eval --episodes-from`. One core; about 7x the samples per
second of `small`. If this fails in closed loop, the limit is the data, not SG-VLA's size.
"""

import argparse
import dataclasses
import sys
import time
from collections import Counter, deque
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_dagger import DaggerFactory, round_layouts  # noqa: E402
from results import record  # noqa: E402

from hab_aux.errors import UserError  # noqa: E402
from hab_aux.eval.config import EvalConfig  # noqa: E402
from hab_aux.eval.harness import evaluate_task  # noqa: E402
from hab_aux.generate.experts.motion import BODY_IDX  # noqa: E402  (torso and arm joints in qpos)
from hab_aux.schema import ACTION_DIM, QPOS_NO_BASE  # noqa: E402
from hab_aux.store import open_dataset  # noqa: E402
from hab_aux.tasks import column_key, get_task, parse_subtasks, select_columns  # noqa: E402
from hab_aux.train.model.action_tokenizer import ActionBins, ActionStats, ProprioStats  # noqa: E402
from hab_aux.train.model.configuration_sgvla import ActionConfig, FlowConfig  # noqa: E402
from hab_aux.train.model.flow_expert import integrate, sample_time, time_embedding  # noqa: E402
from hab_aux.train.model.processor import proprio_of  # noqa: E402
from hab_aux.train.temporal_ensemble import TemporalEnsemble  # noqa: E402

RES, CHUNK, BATCH = 64, 8, 64
ENSEMBLE, ENSEMBLE_DECAY = "ensemble", 0.01  # --execute ensemble: predict every step, ACT's weighting
DEPART = 0.1  # rad
HEADS, FLOW, FLOW_TIME_DIM = ("l1", "flow", "tokens"), FlowConfig(), 64  # --head; flow and tokens keep SG-VLA's defaults
BINS = ActionBins(ActionConfig().n_bins)
LOSS_NAMES = {"l1": "L1", "flow": "flow loss", "tokens": "cross-entropy"}
IMAGES = ("head_rgb", "hand_rgb", "head_depth", "hand_depth")
DEPTH_SCALE = 3000.0  # mm to roughly [0, 1]; clipped at 2


def image_input(steps: dict) -> torch.Tensor:
    """(N, 8, 64, 64) float16 from the stored 128-px images of N steps."""
    rgb = np.concatenate([steps["head_rgb"], steps["hand_rgb"]], -1).astype(np.float32) / 255.0
    depth = np.concatenate([steps["head_depth"], steps["hand_depth"]], -1).astype(np.float32) / DEPTH_SCALE
    x = torch.from_numpy(np.concatenate([rgb, np.clip(depth, 0, 2)], -1)).permute(0, 3, 1, 2)
    return F.interpolate(x, size=(RES, RES), mode="area").half()


class ProbeNet(nn.Module):
    """A CNN and an MLP, with one of three heads (HEADS), so that SG-VLA's two losses can be
    compared with the L1 regression on the same net: "l1" regresses the chunk; "tokens" classifies
    each action dimension into SG-VLA's 256 uniform bins (cross-entropy, the argmax bin's centre at
    inference); "flow" ends the MLP at a 512-D feature and adds a flow-matching velocity MLP on the
    feature, the noisy chunk and the flow time, with SG-VLA's conventions (FlowConfig: time
    distribution, 10 Euler steps). `features` is the chunk itself for "l1" and its logits for "tokens"."""

    def __init__(self, columns: int, head: str = "l1", flow: FlowConfig = FLOW):
        super().__init__()
        self.flow = flow
        widths, layers = [8, 32, 64, 128, 128], []
        for a, b in zip(widths[:-1], widths[1:]):  # 64 -> 4 px
            layers += [nn.Conv2d(a, b, 3, 2, 1), nn.GroupNorm(8, b), nn.GELU(), nn.Conv2d(b, b, 3, 1, 1), nn.GroupNorm(8, b), nn.GELU()]
        self.cnn, self.columns, self.kind = nn.Sequential(*layers), columns, head
        trunk = [nn.Linear(128 * 16 + len(QPOS_NO_BASE) + columns, 512), nn.GELU(), nn.Linear(512, 512), nn.GELU()]
        if head != "flow":  # one Sequential to the output (for l1, the layout of nets saved before --head existed)
            self.head = nn.Sequential(*trunk, nn.Linear(512, CHUNK * ACTION_DIM * (BINS.n_bins if head == "tokens" else 1)))
        else:
            self.head = nn.Sequential(*trunk)
            self.velocity_mlp = nn.Sequential(nn.Linear(512 + CHUNK * ACTION_DIM + FLOW_TIME_DIM, 512), nn.GELU(),
                                              nn.Linear(512, CHUNK * ACTION_DIM))  # fmt: skip

    def features(self, images, qpos, column):
        return self.head(torch.cat([self.cnn(images.float()).flatten(1), qpos, F.one_hot(column, self.columns).float()], 1))

    def velocity(self, h, x_t, t):
        return self.velocity_mlp(torch.cat([h, x_t.flatten(1), time_embedding(t, FLOW_TIME_DIM)], 1)).view_as(x_t)

    def forward(self, images, qpos, column):
        """The predicted (B, CHUNK, 13) normalised chunk: regressed, or integrated from noise."""
        h = self.features(images, qpos, column)
        if self.kind == "l1":
            return h.view(-1, CHUNK, ACTION_DIM)
        if self.kind == "tokens":
            return torch.from_numpy(BINS.decode(h.view(-1, CHUNK, ACTION_DIM, BINS.n_bins).argmax(-1).numpy()))
        return integrate(lambda x, t: self.velocity(h, x, t), torch.randn(len(h), CHUNK, ACTION_DIM), self.flow.steps)

    def loss(self, images, qpos, column, target):
        h = self.features(images, qpos, column)
        if self.kind == "l1":
            return (h.view_as(target) - target).abs().mean()
        if self.kind == "tokens":
            return F.cross_entropy(h.view(-1, BINS.n_bins), torch.from_numpy(BINS.encode(target.numpy())).flatten())
        h, target = h.repeat_interleave(self.flow.noise_repeats, 0), target.repeat_interleave(self.flow.noise_repeats, 0)
        t = sample_time(self.flow, len(h))
        noise = torch.randn_like(target)
        x_t = t[:, None, None] * noise + (1.0 - t[:, None, None]) * target
        return ((self.velocity(h, x_t, t) - (noise - target)) ** 2).mean()


def load(paths: list[str], keys: list[str], chosen: list[str]):
    """The steps of the datasets' episodes of the `chosen` columns as arrays; the images fill one
    preallocated tensor (no second copy)."""
    episodes = []  # (dataset, episode index, column index, length)
    for data in (open_dataset(path) for path in paths):
        for e, meta in enumerate(data.meta):
            key = column_key(meta["subtask"], meta["target_category"])
            if key in chosen:
                start, end = data.episode_bounds(e)
                episodes.append((data, e, keys.index(key), end - start))
    if not episodes:
        raise UserError(f"{', '.join(paths)} hold no episodes of {', '.join(chosen)}")
    images = torch.empty((sum(n for *_, n in episodes), 2 * len(IMAGES), RES, RES), dtype=torch.float16)
    qpos, actions, columns, ends = [], [], [], [0]
    for data, e, column, n in episodes:
        steps = data.episode(e, (*IMAGES, "qpos", "action"))
        images[ends[-1] : ends[-1] + n] = image_input(steps)
        qpos.append(steps["qpos"][:, list(QPOS_NO_BASE)])
        actions.append(steps["action"])
        columns.append(np.full(n, column))
        ends.append(ends[-1] + n)
    return images, np.concatenate(qpos), np.concatenate(actions), np.concatenate(columns), np.array(ends)


def observed(observation) -> tuple[torch.Tensor, np.ndarray]:
    """One observation as the probe reads it: (1, 8, 64, 64) images and the 12 joint positions (not normalised)."""
    return image_input({k: np.asarray(observation[k])[None] for k in IMAGES}), proprio_of(observation["qpos"])


class ProbePolicy:
    name = "bc-probe"

    def __init__(self, net, stats, column: int, proprio: bool, execute: int | str, traces: dict | None = None):
        self.net, self.stats, self.column, self.proprio, self.queue = net, stats, column, proprio, deque()
        self.execute, self.ensemble = execute, TemporalEnsemble(CHUNK, ENSEMBLE_DECAY)
        self.traces, self.trace = {} if traces is None else traces, []

    def reset(self, episode) -> None:
        self.queue.clear()
        self.ensemble.reset()
        self.trace = self.traces.setdefault((episode.layout_seed, episode.episode_seed), [])

    def chunk(self, observation) -> np.ndarray:
        """The net's normalised (CHUNK, 13) actions for this observation."""
        images, qpos = observed(observation)
        q = self.stats["qpos"].normalize(qpos) * self.proprio
        with torch.no_grad():
            return self.net(images, torch.from_numpy(q)[None], torch.tensor([self.column]))[0].numpy()

    def select_action(self, observation, instruction: str) -> np.ndarray:
        self.trace.append(np.asarray(observation["qpos"])[BODY_IDX])
        if self.execute == ENSEMBLE:
            normalised = self.ensemble.step(self.chunk(observation))
        else:
            if not self.queue:
                self.queue.extend(self.chunk(observation)[: self.execute])
            normalised = self.queue.popleft()
        return np.clip(self.stats["action"].unnormalize(normalised), -1, 1).astype(np.float32)


class Samples:
    """Training samples: 64-px images, normalised joint positions (zeros without proprio), column
    indices, normalised actions, and where each episode ends (the chunk targets stop there). The
    images stay in the parts they came in (demonstrations, then each DAgger round), so growing
    the set never copies the demonstrations' images."""

    def __init__(self, images, qpos, actions, columns, ends, stats, proprio: bool):
        self.parts, self.column, self.ends = [images], torch.from_numpy(columns).long(), ends
        self.state = torch.from_numpy(stats["qpos"].normalize(qpos) * proprio)
        self.target = torch.from_numpy(stats["action"].normalize(actions))

    def images(self, index: np.ndarray) -> torch.Tensor:
        """The images of the steps `index`."""
        starts = np.cumsum([0] + [len(p) for p in self.parts])
        part = np.searchsorted(starts, index, side="right") - 1
        out = torch.empty((len(index), *self.parts[0].shape[1:]), dtype=self.parts[0].dtype)
        for k in np.unique(part):
            where = np.flatnonzero(part == k)
            out[where] = self.parts[k][index[where] - starts[k]]
        return out

    def extend(self, other: "Samples") -> None:
        self.parts += other.parts
        self.column, self.state = torch.cat([self.column, other.column]), torch.cat([self.state, other.state])
        self.target, self.ends = torch.cat([self.target, other.target]), np.concatenate([self.ends, self.ends[-1] + other.ends[1:]])


def chunk_steps(ends: np.ndarray) -> np.ndarray:
    """(steps, CHUNK): the steps whose actions make each step's target chunk, padded with its episode's last."""
    last = np.repeat(ends[1:], np.diff(ends)) - 1
    return np.minimum(np.arange(ends[-1])[:, None] + np.arange(CHUNK), last[:, None])


def train(net, optimizer, samples: Samples, rng, qpos_noise: float, steps: int | None, minutes: float) -> tuple[int, list[float]]:
    """`steps` steps of BATCH (or `minutes` of them); (steps taken, the last 200 losses)."""
    future = chunk_steps(samples.ends)
    started, step, losses = time.time(), 0, []
    net.train()
    while step < steps if steps is not None else time.time() - started < minutes * 60:
        b = rng.integers(0, len(samples.target), BATCH)
        shift = tuple(int(s) for s in rng.integers(-2, 3, 2))  # random shift, 2 px at 64 (4 at 128)
        qpos = samples.state[b] + qpos_noise * torch.randn_like(samples.state[b]) if qpos_noise else samples.state[b]
        loss = net.loss(torch.roll(samples.images(b), shift, (2, 3)), qpos, samples.column[b], samples.target[future[b]])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step, losses = step + 1, [*losses[-199:], loss.item()]
    net.eval()
    return step, losses


def dagger_round(task, factory: "_Factory", stats, keys, round_index: int, episodes: int,
                 subtasks: tuple[str, ...] | None) -> tuple[Samples, list]:  # fmt: skip
    """Roll the probe out on `episodes` new train layouts per column (of `subtasks`), the expert
    labelling every state it reaches (probe_dagger); (those labelled steps, the rollouts' ColumnResults)."""
    labelled = DaggerFactory(factory, observed)
    config = EvalConfig(episodes=episodes, split="train", seed=round_layouts(round_index, episodes))
    rows = evaluate_task(task, {"dagger": labelled}, config, subtasks=subtasks)["dagger"]
    kept = [(keys.index(key), steps) for key, steps in labelled.episodes if steps]
    images, qpos, actions = zip(*((x, q, a) for _, steps in kept for (x, q), a in steps))
    lengths = [len(steps) for _, steps in kept]
    samples = Samples(torch.cat(images), np.stack(qpos), np.stack(actions), np.repeat([c for c, _ in kept], lengths),
                      np.concatenate([[0], np.cumsum(lengths)]), stats, factory.proprio)  # fmt: skip
    return samples, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="comma-separated datasets; episodes come from the first")
    parser.add_argument("--minutes", type=float, default=20.0, help="training wall time")
    parser.add_argument("--steps", type=int, help="train this many steps instead (the same fit on a busy machine)")
    parser.add_argument("--episodes", type=int, default=10, help="own training episodes per column, closed loop")
    parser.add_argument("--val", type=int, default=0, help="also evaluate this many val layouts per column "
                        "(as `habaux eval --episodes N`): does the probe generalise beyond its training homes?")
    parser.add_argument("--subtasks", help="comma-separated subtasks or column keys (as `habaux eval --subtasks`): "
                        "train on and evaluate only these columns (default all)")
    parser.add_argument("--head", choices=HEADS, default="l1",
                        help="l1: regress the chunk; flow, tokens: SG-VLA's flow-matching or binned-token loss on the same net")
    parser.add_argument("--flow-repeats", type=int, default=FLOW.noise_repeats,
                        help="--head flow: (noise, time) draws per sample, SG-VLA's flow.noise_repeats")
    parser.add_argument("--no-proprio", action="store_true", help="zero the joint-position input")
    parser.add_argument("--qpos-noise", type=float, default=0.0,
                        help="std of Gaussian noise on the normalised joint positions in training (against copying them)")
    parser.add_argument("--seed", type=int, default=0, help="weights and batches: another seed measures the run-to-run spread")
    parser.add_argument("--save", type=Path, help="write the trained net and its stats here (torch.save)")
    parser.add_argument("--load", type=Path, help="start from a net --save wrote (with its stats) instead of random weights")
    parser.add_argument("--execute", default="2", type=executions,
                        help=f"comma-separated: actions executed per predicted chunk (1-{CHUNK}) or '{ENSEMBLE}' (ACT's temporal "
                             "ensembling); the trained net is evaluated closed loop once per value")  # fmt: skip
    parser.add_argument("--dagger", type=int, default=0, help="DAgger rounds after training (probe_dagger.py): each rolls the "
                        "probe out on new train layouts, adds the expert's labels of the states it reached, trains on")
    parser.add_argument("--dagger-episodes", type=int, default=10, help="rollouts per column in each DAgger round")
    parser.add_argument("--dagger-steps", type=int, default=2400, help="training steps after each DAgger round")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    task, paths = get_task("SetTable"), args.data.split(",")
    keys = [c.key for c in select_columns(task, None)]
    try:
        subtasks = parse_subtasks(task, args.subtasks) if args.subtasks else None
        images, qpos, actions, columns, ends = load(paths, keys, [c.key for c in select_columns(task, subtasks)])
    except UserError as error:
        sys.exit(f"--subtasks {args.subtasks}: {error}" if args.subtasks else str(error))
    try:
        configs = [EvalConfig(episodes=args.episodes, episodes_from=Path(paths[0]))]
        configs += [EvalConfig(episodes=args.val)] if args.val else []
    except UserError as error:
        sys.exit(f"--val {args.val}: {error}" if args.val else str(error))
    saved = torch.load(args.load, weights_only=False) if args.load else None
    saved_head = saved.get("head", "l1") if saved else None  # nets saved before --head existed are l1
    if saved and (saved["columns"] != keys or saved["proprio"] == args.no_proprio or saved_head != args.head):
        sys.exit(f"--load {args.load}: saved for columns {saved['columns']} with proprio {saved['proprio']} and head {saved_head}; "
                 f"this run has {keys} with proprio {not args.no_proprio} and head {args.head}")
    stats = saved["stats"] if saved else {"action": ActionStats.from_data(actions), "qpos": ProprioStats.from_data(qpos)}
    samples = Samples(images, qpos, actions, columns, ends, stats, not args.no_proprio)
    demo_steps = len(samples.target)
    if args.flow_repeats < 1 or (args.flow_repeats > 1 and args.head != "flow"):
        sys.exit(f"--flow-repeats {args.flow_repeats}: expected a count >= 1, and more than 1 only with --head flow")
    flow = dataclasses.replace(FLOW, noise_repeats=args.flow_repeats)
    net, rng = ProbeNet(len(keys), args.head, flow), np.random.default_rng(args.seed)
    if saved:
        net.load_state_dict(saved["net"])
    optimizer = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-4)
    qpos_noise = 0.0 if args.no_proprio else args.qpos_noise
    started = time.time()
    step, losses = train(net, optimizer, samples, rng, qpos_noise, args.steps, args.minutes)
    rounds = []
    for r in range(args.dagger):
        factory = _Factory(net, stats, keys, not args.no_proprio, args.execute[0])
        added, rows = dagger_round(task, factory, stats, keys, r, args.dagger_episodes, subtasks)
        samples.extend(added)
        more, losses = train(net, optimizer, samples, rng, qpos_noise, args.dagger_steps, 0.0)
        step += more
        rounds.append(f"round {r + 1}: the probe succeeded on {sum(x.successes for x in rows)} of "
                      f"{sum(len(x.episodes) for x in rows)} rollouts; {len(added.target)} labelled steps added")
    minutes = (time.time() - started) / 60
    if args.save:
        torch.save({"net": net.state_dict(), "stats": stats, "columns": keys, "proprio": not args.no_proprio,
                    "head": args.head}, args.save)
    fit = open_loop_fit(net, samples, args.episodes, keys)
    size = f"{args.steps} steps, {args.data}" if args.steps is not None else f"{args.minutes:g} minutes"
    flags = (f"--steps {args.steps}" if args.steps is not None else f"--minutes {args.minutes:g}") + " --no-proprio" * args.no_proprio
    flags += (f" --qpos-noise {args.qpos_noise:g}" if args.qpos_noise else "") + (f" --seed {args.seed}" if args.seed else "")
    flags += f" --execute {','.join(map(str, args.execute))}" * (args.execute != [2]) + (f" --load {args.load}" if args.load else "")
    if args.dagger:
        flags += f" --dagger {args.dagger} --dagger-episodes {args.dagger_episodes} --dagger-steps {args.dagger_steps}"
    flags += f" --subtasks {args.subtasks}" if args.subtasks else ""
    flags += f" --head {args.head}" if args.head != "l1" else ""
    flags += f" --flow-repeats {args.flow_repeats}" if args.flow_repeats > 1 else ""
    trained = (f"Trained {minutes:.0f} min on one core{f' from {args.load}' if args.load else ''}: {step} steps of {BATCH} "
               f"({step * BATCH / demo_steps:.1f} passes over {demo_steps} recorded steps); training {LOSS_NAMES[args.head]} (normalised, mean of "
               f"the last 200 steps) {np.mean(losses) if losses else float('nan'):.3f}. Joint positions {'off' if args.no_proprio else 'on'}"
               f"{f', with noise of std {args.qpos_noise:g} in training' if qpos_noise else ''}.")  # fmt: skip
    if rounds:
        trained += (f" DAgger ({args.dagger_episodes} rollouts per column on new train layouts per round, executing "
                    f"{args.execute[0]} per chunk, {args.dagger_steps} steps after each): " + "; ".join(rounds) + ".")
    for execute, config in ((x, c) for x in args.execute for c in configs):
        factory = _Factory(net, stats, keys, not args.no_proprio, execute)
        rows = evaluate_task(task, {"bc-probe": factory}, config, subtasks=subtasks)["bc-probe"]
        how = "temporal ensembling (a chunk predicted every step)" if execute == ENSEMBLE else f"{execute} actions executed per chunk"
        body = "\n".join([
            f"{trained} Open-loop L1 (normalised) of the first predicted action on the training episodes' own recorded "
            f"frames, by step of the episode and by column: {fit}.", "", f"Closed loop on {config.source}, {how}:", "",
            "| " + " | ".join(r.column for r in rows) + " | mean |", "|" + "---:|" * (len(rows) + 1),
            "| " + " | ".join(f"{r.successes}/{len(r.episodes)}" for r in rows) + f" | {np.mean([r.success_rate for r in rows]):.2f} |",
            "", "Failures: " + "; ".join(f"{r.column}: " + ", ".join(f"{why} ({n})" for why, n in reasons(r).most_common())
                                         for r in rows if reasons(r)) + ".",
            *(["", f"Where the rollouts left the expert's path (the first step with an arm or torso joint over {DEPART} from every "
               "joint position of the recorded episode; step / recorded length, sorted; `-` never left):", "",
               *(f"- {key}: " + ", ".join(f"{'-' if a is None else a}/{n}" for a, n in sorted(pairs, key=lambda p: (p[0] is None, p[0] or 0)))
                 for key, pairs in departures(factory.traces, paths[0]).items())] if config.episodes_from else []),
        ])  # fmt: skip
        variant = " (proprio off)" * args.no_proprio + f" (qpos noise {args.qpos_noise:g})" * bool(args.qpos_noise)
        variant += f" (seed {args.seed})" * bool(args.seed) + f" (execute {execute})" * (execute != 2)
        variant += f" (DAgger {args.dagger})" * bool(args.dagger) + " (loaded)" * bool(args.load)
        variant += f" ({args.subtasks})" * bool(args.subtasks) + f" ({args.head} head)" * (args.head != "l1")
        variant += f" ({args.flow_repeats} flow draws per sample)" * (args.flow_repeats > 1)
        variant += f" (val, {config.episodes} layouts per column)" * (config.episodes_from is None)
        record(f"Behaviour-cloning probe, {size}{variant}",
               f"python benchmarks/bc_probe.py --data {args.data} {flags} --episodes {args.episodes}"
               + f" --val {args.val}" * bool(args.val), body)


PHASES = ((0, 10), (10, 50), (50, None))  # steps of an episode: the first reach's start, its middle, the rest


def open_loop_fit(net, samples: Samples, episodes: int, keys: list[str]) -> str:
    """L1 between the net's first action and the recorded one on the frames of the episodes the
    closed loop runs (the first `episodes` per column, which come first in the arrays), by PHASES:
    whether the net fits the start of an episode, where its rollouts leave the expert; and by
    column (`keys`), over whole episodes: which columns the net fits worst."""
    ends, columns = samples.ends, samples.column.numpy()
    firsts = [e for c in range(len(keys)) for e in [e for e in range(len(ends) - 1) if columns[ends[e]] == c][:episodes]]
    errors, by_column = {p: [] for p in PHASES}, {}
    with torch.no_grad():
        for e in firsts:
            idx = np.arange(ends[e], ends[e + 1])
            predicted = net(samples.images(idx), samples.state[idx], samples.column[idx])[:, 0]
            err = (predicted - samples.target[idx]).abs().mean(1).numpy()
            for lo, hi in PHASES:
                errors[(lo, hi)].extend(err[lo:hi])
            by_column.setdefault(keys[columns[ends[e]]], []).extend(err)
    phases = ", ".join(f"steps {lo}-{'end' if hi is None else hi - 1} {np.mean(v):.3f}" for (lo, hi), v in errors.items())
    return phases + "; by column: " + ", ".join(f"{key} {np.mean(v):.3f}" for key, v in by_column.items())


def reasons(row) -> Counter:
    """How the column's failed episodes failed, most common first."""
    return Counter(e.failure_reason for e in row.episodes if not e.success)


def executions(text: str) -> list[int | str]:
    """--execute's values: counts in [1, CHUNK] or ENSEMBLE."""
    values = []
    for v in text.split(","):
        if v != ENSEMBLE and not (v.isdigit() and 1 <= int(v) <= CHUNK):
            raise argparse.ArgumentTypeError(f"{v!r}: expected a count in 1-{CHUNK} or '{ENSEMBLE}'")
        values.append(v if v == ENSEMBLE else int(v))
    return values


class _Factory:
    def __init__(self, net, stats, keys, proprio, execute):
        self.net, self.stats, self.keys, self.proprio, self.execute = net, stats, keys, proprio, execute
        self.traces: dict[tuple[int, int], list] = {}  # (layout, episode seed) -> the policy's joint positions

    def __call__(self, env, k, column):
        return ProbePolicy(self.net, self.stats, self.keys.index(column.key), self.proprio, self.execute, self.traces)


def departures(traces: dict, path: str) -> dict[str, list[tuple[int, int]]]:
    """Per column, (the step at which the policy left the expert's path, the expert's length) for
    each evaluated episode; the step is None when it never left. Left: some arm or torso
    joint more than DEPART rad from every joint position of the recorded episode (a path distance,
    so a policy that lags the expert has not left it)."""
    data, out = open_dataset(path), {}
    for e, meta in enumerate(data.meta):
        trace = traces.get((meta["layout_seed"], meta["episode_seed"]))
        if not trace:
            continue
        expert = data.episode(e, ("qpos",))["qpos"][:, BODY_IDX]
        gap = np.abs(np.asarray(trace)[:, None] - expert[None]).max(-1).min(-1)  # per policy step
        left = np.flatnonzero(gap > DEPART)
        key = column_key(meta["subtask"], meta["target_category"])
        out.setdefault(key, []).append((int(left[0]) if len(left) else None, len(expert)))
    return out


if __name__ == "__main__":
    main()
