"""Training samples from hab-aux datasets: random access over zarr shards, the paper's label allocation.

Samples are dicts of schema step keys plus "instruction" (what `SGVLAProcessor` consumes). A
label a sample's episode does not provide is set to None, so its loss is masked out rather than
invented. Batches are read with one `Dataset.steps` call per batch (one read per shard and key),
in worker processes that each open the stores themselves.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hab_aux.errors import UserError
from hab_aux.schema import FIELDS
from hab_aux.store import Dataset, open_dataset
from hab_aux.train.augment import random_shift
from hab_aux.train.decoded import DecodedSteps, build, cache_folder
from hab_aux.train.labels import PAPER_ALLOCATION, LabelSource
from hab_aux.train.model.processor import PROPRIO_KEY, proprio_of


@dataclass(frozen=True)
class SampleSpec:
    """What each sample holds."""

    obs_keys: tuple[str, ...]  # images read for the model (with history)
    label_keys: tuple[str, ...]  # decoder targets
    history: int = 0  # past frames per image key (clamped at the episode start)
    chunk: int = 1  # future actions per sample (flow head); past the episode end: invalid
    allocation: tuple[LabelSource, ...] = PAPER_ALLOCATION
    subtasks: tuple[str, ...] | None = None  # sample only episodes of these subtasks
    shift: int = 0  # random-shift augmentation of images and masks, in stored pixels (0 = off)
    proprio: bool = False  # add "proprio": the current qpos without the base (the model's state input)

    @property
    def spatial_keys(self) -> tuple[str, ...]:
        """Images and image-shaped labels (masks): what a shift moves."""
        return tuple(k for k in (*self.obs_keys, *self.label_keys) if len(FIELDS[k].shape) >= 2)


class StepSamples:
    """Map-style dataset: item b is the list of samples of batch b of the current epoch."""

    def __init__(self, paths: list[Path], spec: SampleSpec, batch_size: int, seed: int = 0, decoded: Path | None = None):
        """`decoded`: a cache folder; the keys the samples read are decoded into it once (decoded.py)
        and read from there instead of the compressed stores."""
        self.paths, self.spec, self.batch_size, self.seed = [str(p) for p in paths], spec, batch_size, seed
        data = self._data
        ends = data.episode_ends
        self._episode_of_step = np.repeat(np.arange(len(ends)), np.diff(ends, prepend=0))
        self._starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        self._ends = ends.astype(np.int64)
        meta = {k: data.meta_column(k) for k in ("task", "subtask", "instruction")}
        wanted = np.ones(len(ends), bool) if spec.subtasks is None else np.isin(meta["subtask"], spec.subtasks)
        self._steps = np.nonzero(wanted[self._episode_of_step])[0]
        self.num_steps = len(self._steps)
        if self.num_steps < batch_size:
            which = "" if spec.subtasks is None else f" of subtasks {', '.join(spec.subtasks)}"
            raise UserError(f"dataset {', '.join(self.paths)} holds {self.num_steps} steps{which}; "
                            f"a batch needs {batch_size}")  # fmt: skip
        self._instruction = meta["instruction"]
        self._provides = {
            src.key: np.array([src.provides(t, s) for t, s in zip(meta["task"], meta["subtask"])], bool)
            for src in spec.allocation
        }
        missing = [k for k in spec.label_keys if not self._provides.get(k, np.zeros(1, bool)).any()]
        if missing:
            raise UserError(f"no episode in {', '.join(self.paths)} provides the label(s) {', '.join(missing)} "
                            "under the label allocation; add data of the right task/subtask, train with --labels all, "
                            "or turn those decoders off")  # fmt: skip
        self._reader = None
        if decoded is not None:
            keys = tuple(dict.fromkeys((*self._read_keys, "action")))
            folder = cache_folder(decoded, dataset_fingerprint(paths))
            build(data, keys, folder)
            self._reader = DecodedSteps(folder, keys)

    @property
    def _read_keys(self) -> tuple[str, ...]:
        """The keys read at each sample's current (and past) steps; "action" is read for its chunk."""
        spec = self.spec
        return tuple(dict.fromkeys((*spec.obs_keys, *spec.label_keys, *(("qpos",) if spec.proprio else ()))))

    @property
    def _steps_reader(self):
        return self._data if self._reader is None else self._reader

    @property
    def _data(self) -> Dataset:
        """Opened lazily and per process: DataLoader workers each open the stores themselves."""
        if getattr(self, "_dataset", None) is None:
            self._dataset = open_dataset(self.paths)
        return self._dataset

    def __getstate__(self):
        return {**self.__dict__, "_dataset": None}

    def batches_per_epoch(self) -> int:
        return self.num_steps // self.batch_size

    def batch_indices(self, batch: int) -> np.ndarray:
        """Steps of global batch number `batch`: a fresh seeded permutation each epoch, so a resumed run
        continues with exactly the batches it would have seen."""
        epoch, b = divmod(batch, self.batches_per_epoch())
        order = np.random.default_rng([self.seed, epoch]).permutation(self._steps)
        return order[b * self.batch_size : (b + 1) * self.batch_size]

    def __len__(self) -> int:
        return 1 << 62  # batches are numbered without end; the trainer decides when to stop

    def __getitem__(self, batch: int) -> list[dict]:
        samples = self.samples(self.batch_indices(batch))
        if not self.spec.shift:
            return samples
        rng = np.random.default_rng([self.seed, batch, 1])  # a pure function of the batch number, like its steps
        return [random_shift(s, self.spec.spatial_keys, self.spec.shift, rng) for s in samples]

    def samples(self, steps: np.ndarray) -> list[dict]:
        spec = self.spec
        episodes = self._episode_of_step[steps]
        starts, ends = self._starts[episodes], self._ends[episodes]
        past = np.maximum(steps[:, None] - np.arange(spec.history, -1, -1)[None], starts[:, None])  # oldest first
        future = steps[:, None] + np.arange(spec.chunk)[None]
        future_valid = future < ends[:, None]
        future = np.minimum(future, ends[:, None] - 1)
        # Images and labels of the current (and past) steps only; the action chunk's future steps
        # need only their actions (reading their images too decoded a second chunk of every image
        # key for most samples: the chunk runs past a 10-step storage chunk).
        need = np.unique(np.concatenate([past.ravel(), steps]))
        read = self._steps_reader.steps(need, self._read_keys)
        acting = np.unique(np.concatenate([future.ravel(), steps]))
        actions = self._steps_reader.steps(acting, ("action",))["action"]
        # rows of `read` and `actions` (both sorted by step)
        now, then, acted, chunk = (np.searchsorted(a, s) for a, s in ((need, steps), (need, past), (acting, steps), (acting, future)))
        out = []
        for i, episode in enumerate(episodes):
            r = now[i]
            sample = {"instruction": str(self._instruction[episode]), "action": actions[acted[i]]}
            for key in spec.obs_keys:
                sample[key] = read[key][then[i]] if spec.history else read[key][r]
            for key in spec.label_keys:
                sample[key] = read[key][r] if self._provides[key][episode] else None
            if spec.proprio:
                sample[PROPRIO_KEY] = proprio_of(read["qpos"][r])
            if spec.chunk > 1:
                sample["action_chunk"] = actions[chunk[i]]
                sample["action_chunk_valid"] = future_valid[i]
            out.append(sample)
        return out


def dataset_fingerprint(paths: list[Path]) -> str:
    """Changes when any dataset gains, loses or changes a shard."""
    parts = []
    for p in paths:
        manifest = json.loads((Path(p) / "manifest.json").read_text())
        parts.append([str(Path(p).resolve()), [(s["path"], s["num_steps"]) for s in manifest["shards"]]])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def quantiles(paths: list[Path], key: str, cache_dir: Path, index: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-dim 1st/99th percentiles of every step's `key` (dims `index`), computed once per dataset
    set and cached."""
    name = key if index is None else f"{key}-{'_'.join(map(str, index))}"
    cache = cache_dir / f"{name}-stats-{dataset_fingerprint(paths)}.json"
    if cache.exists():
        d = json.loads(cache.read_text())
        return np.asarray(d["q01"], np.float32), np.asarray(d["q99"], np.float32)
    data = open_dataset([str(p) for p in paths])
    values = np.concatenate([s.array(key)[: s.num_steps] for s in data.shards])
    values = values if index is None else values[:, list(index)]
    q01, q99 = np.quantile(values, 0.01, axis=0), np.quantile(values, 0.99, axis=0)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"q01": q01.tolist(), "q99": q99.tolist(), "num_steps": len(values)}))
    return q01.astype(np.float32), q99.astype(np.float32)
