"""LeRobot v3's file layout: episodes appended to numbered files, a new file once one is full.

Paths and limits as in lerobot.datasets.utils (chunk-XXX/file-YYY, 1000 files per chunk folder,
100 MB per parquet file, 200 MB per video file). An episode never spans two files.
"""

from pathlib import Path

DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
CHUNKS_SIZE = 1000
DATA_FILES_SIZE_IN_MB = 100
VIDEO_FILES_SIZE_IN_MB = 200


class FileSeries:
    """Where the next episode goes: the current file, or the next one once the current is full."""

    def __init__(self, root: Path, pattern: str, limit_mb: int, **names: str):
        self.root, self.pattern, self.limit_bytes, self.names = root, pattern, limit_mb * 2**20, names
        self.chunk_index = self.file_index = 0

    @property
    def path(self) -> Path:
        return self.root / self.pattern.format(chunk_index=self.chunk_index, file_index=self.file_index, **self.names)

    def full(self) -> bool:
        return self.path.exists() and self.path.stat().st_size >= self.limit_bytes

    def advance(self) -> None:
        self.file_index += 1
        if self.file_index == CHUNKS_SIZE:
            self.chunk_index, self.file_index = self.chunk_index + 1, 0
