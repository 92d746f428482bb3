"""One video feature's episodes, appended to LeRobot v3's mp4 files with PyAV.

LeRobot finds an episode's frames in a file by time: frame i of an episode is at
`from_timestamp + i / fps`, and its decoders accept a frame only within 1e-4 s of that. So each
file's frames get pts 0, 1, 2, ... in a 1/fps time base, episode after episode.

Encoding: H.264 (libx264), yuv420p, a keyframe every 2 frames (LeRobot's GOP, for fast random
access), CRF 18. On 128x128 renders this costs about 1 KB per frame; decoded pixels differ from
the originals by about 2 of 255 on average (more at sharp colour edges, from the 4:2:0 chroma).
LeRobot's own default is AV1 at CRF 30; H.264 decodes everywhere and CRF 18 keeps more detail.
"""

from fractions import Fraction
from pathlib import Path

import numpy as np

from hab_aux.export.files import VIDEO_FILES_SIZE_IN_MB, VIDEO_PATH, FileSeries

CODEC, PIX_FMT, GOP, CRF = "libx264", "yuv420p", 2, 18


class VideoSeries:
    def __init__(self, root: Path, key: str, fps: int):
        import av

        self._av, self.fps = av, fps
        self.files = FileSeries(root, VIDEO_PATH, VIDEO_FILES_SIZE_IN_MB, video_key=key)
        self._container = self._stream = None
        self._frames_in_file = 0

    def _open(self, height: int, width: int) -> None:
        self.files.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = self._av.open(str(self.files.path), "w")
        options = {"g": str(GOP), "crf": str(CRF), "threads": "1"}
        self._stream = self._container.add_stream(CODEC, rate=self.fps, options=options)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, PIX_FMT
        self._stream.codec_context.time_base = Fraction(1, self.fps)
        self._frames_in_file = 0

    def add_episode(self, frames: np.ndarray) -> dict:
        """Append (T, H, W, 3) uint8 frames; return the episode's `videos/KEY/...` location."""
        if self._container is not None and self.files.full():
            self.close()
            self.files.advance()
        if self._container is None:
            self._open(*frames.shape[1:3])
        start = self._frames_in_file
        for image in frames:
            frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = self._frames_in_file, Fraction(1, self.fps)
            self._container.mux(self._stream.encode(frame))
            self._frames_in_file += 1
        return {
            "chunk_index": self.files.chunk_index,
            "file_index": self.files.file_index,
            "from_timestamp": start / self.fps,
            "to_timestamp": self._frames_in_file / self.fps,
        }

    def close(self) -> None:
        if self._container is not None:
            self._container.mux(self._stream.encode(None))
            self._container.close()
            self._container = self._stream = None


def video_info(path: Path, fps: int) -> dict:
    """The `info` LeRobot stores with a video feature in meta/info.json (its get_video_info)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": stream.pix_fmt,
            "video.is_depth_map": False,
            "video.fps": fps,
            "video.channels": 3,
            "has_audio": False,
        }

