"""ACT's temporal ensembling of action chunks: predict a chunk every step, execute the weighted
mean of every prediction made so far for the current step (Zhao et al. 2023: weight
exp(-decay * i), i = 0 the oldest prediction, so older predictions count a little more)."""

from collections import deque

import numpy as np


class TemporalEnsemble:
    def __init__(self, chunk: int, decay: float):
        self.chunk, self.decay = chunk, decay
        self.reset()

    def reset(self) -> None:
        # predictions[j]: the predictions made so far for the step j steps from now, oldest first
        self.predictions: deque[list[np.ndarray]] = deque([] for _ in range(self.chunk))

    def step(self, chunk: np.ndarray) -> np.ndarray:
        """Add this step's (chunk, D) prediction; return the action for this step and move on one step."""
        if len(chunk) != self.chunk:
            raise ValueError(f"expected a chunk of {self.chunk} actions, got {len(chunk)}")
        for j, action in enumerate(chunk):
            self.predictions[j].append(np.asarray(action, np.float64))
        now = np.stack(self.predictions.popleft())
        self.predictions.append([])
        weights = np.exp(-self.decay * np.arange(len(now)))
        return (weights[:, None] * now).sum(0) / weights.sum()
