"""Store writes overlapped with simulation: a thread commits each episode while the next rolls out.

Compression (zstd, JPEG-XL) and the fsyncs of a commit release the GIL, so the thread's work runs
beside the simulator's stepping and rendering instead of after it. The queue holds at most `depth`
episodes: memory stays bounded (an episode of 200 steps is about 50 MB raw) and a slow disk slows
the rollouts down instead of growing the queue.

Nothing changes for durability: an episode is committed by `ShardWriter.add_episode` as before,
just later; a run killed with episodes still queued loses those, and resuming re-records them
(the owed slots are read from the committed store, not from the progress report).
"""

import queue
import threading

import numpy as np

from hab_aux.store import ShardWriter

_DONE = None


class BackgroundWriter:
    """`submit` queues an episode for `writer.add_episode`; `close` waits until every one is
    committed. An error in the thread is raised by the next `submit` or by `close`."""

    def __init__(self, writer: ShardWriter, depth: int = 2):
        self.writer, self.error = writer, None
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.thread = threading.Thread(target=self._run, name="shard-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not _DONE:
            if self.error is None:  # after a failure, drain the queue so `submit` never blocks forever
                try:
                    self.writer.add_episode(*item)
                except BaseException as error:  # noqa: BLE001 - handed to the main thread as is
                    self.error = error

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def submit(self, steps: dict[str, np.ndarray], meta: dict) -> None:
        self._raise()
        self.queue.put((steps, meta))

    def close(self) -> None:
        if self.thread.is_alive():
            self.queue.put(_DONE)
            self.thread.join()
        self._raise()

    def __enter__(self) -> "BackgroundWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()  # commits what is queued, also when the body raised
