"""`habaux train`'s settings as one dataclass: the CLI's defaults are its defaults (no torch here, so the CLI's help reads it)."""

from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

from hab_aux.errors import UserError, choose
from hab_aux.schema import IMAGE_SIZE
from hab_aux.train.labels import LABEL_ALLOCATIONS

STRATEGIES = ("ddp", "fsdp")
# How a run executes, not what it learns: free to change on --resume.
EXECUTION_FIELDS = ("max_steps", "num_workers", "save_every", "device", "keep_last", "keep_every", "decoded_cache")


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...]
    out: str
    preset: str = "tiny"
    recipe: str = "sgvla"
    overrides: tuple[str, ...] = ()
    schedule: str | None = None
    batch_size: int = 8  # samples per micro-batch per rank
    grad_accum: int = 1
    lr: float | None = None  # peak learning rate; None: the preset's (SGVLAConfig.optim)
    seed: int = 0
    max_steps: int | None = None
    num_workers: int = 2
    save_every: int = 200
    device: str = "auto"
    strategy: str = "ddp"  # under torchrun: "ddp" replicates the model, "fsdp" shards it
    labels: str = "paper"  # which episodes train which decoder (labels.LABEL_ALLOCATIONS)
    shift: int = 0  # random-shift augmentation, pixels of the stored images (0 = off)
    keep_last: int = 3  # newest checkpoint folders kept (state.pt, which --resume reads, is separate)
    keep_every: int | None = None  # also keep every checkpoint whose step is a multiple of this
    decoded_cache: bool = False  # read batches from decoded copies of the data (train/decoded.py)
    ema_decay: float | None = None  # checkpoints hold an exponential moving average of the weights (trainer.py)
    init_from: str | None = None  # a checkpoint whose weights the run starts from (checkpoint.load_weights)

    def __post_init__(self):
        choose("--strategy", self.strategy, STRATEGIES)
        choose("--labels", self.labels, LABEL_ALLOCATIONS)
        if not 0 <= self.shift < IMAGE_SIZE // 2:
            raise UserError(f"--shift must be between 0 and {IMAGE_SIZE // 2 - 1} pixels, got {self.shift}")
        if self.keep_every is not None and self.keep_every < 1:
            raise UserError(f"--keep-every must be at least 1, got {self.keep_every}")
        for name in ("batch_size", "grad_accum", "save_every", "keep_last"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.lr is not None and not self.lr > 0:
            raise UserError(f"--lr must be > 0, got {self.lr}")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise UserError(f"--ema-decay must be between 0 and 1 (0.999: an average over about 1,000 steps), got {self.ema_decay}")
        if self.ema_decay is not None and self.strategy == "fsdp":
            raise UserError("--ema-decay keeps a full copy of the weights per rank, which --strategy fsdp exists to avoid: use ddp")
        if self.max_steps is not None and self.max_steps < 1:
            raise UserError(f"--max-steps must be at least 1, got {self.max_steps}")
        if not self.data:
            raise UserError("--data needs at least one dataset folder")

    @classmethod
    def identity_defaults(cls) -> dict:
        """Defaults of the identity's settings, for runs saved before a setting existed."""
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING and f.name not in EXECUTION_FIELDS}

    def identity(self, world_size: int) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in EXECUTION_FIELDS}
        init = None if self.init_from is None else str(Path(self.init_from).resolve())
        return {**d, "data": [str(Path(p).resolve()) for p in self.data], "overrides": list(self.overrides),
                "init_from": init, "world_size": world_size}  # fmt: skip
