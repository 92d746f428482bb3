"""A zarr v3 codec that stores each inner chunk, one frame, as an image through imagecodecs.

zarr-python 3 takes a third-party codec as a subclass of `zarr.abc.codec.ArrayBytesCodec`,
registered under the name written in the array's metadata ("Extending Zarr" in zarr's guide).
imagecodecs ships zarr 3 codecs of its own only from 2026.5 on, which needs Python >= 3.12, so
this adapter hands the frame to one of imagecodecs' numcodecs codecs (`imagecodecs.numcodecs`),
which does all of the coding. Its metadata is that codec's numcodecs configuration:

    {"name": "hab_aux.image", "configuration": {"codec": {"id": "imagecodecs_jpegxl", "lossless": true, "effort": 2}}}

Importing hab_aux.store registers it with zarr, and the `zarr.codecs` entry point in
pyproject.toml does the same for plain zarr in an environment where hab-aux is installed.
"""

import asyncio
from dataclasses import dataclass
from functools import cached_property

import numcodecs
import numpy as np
from imagecodecs.numcodecs import register_codecs
from zarr.abc.codec import ArrayBytesCodec
from zarr.core.common import parse_named_configuration
from zarr.registry import register_codec

NAME = "hab_aux.image"
PIXEL_TYPES = (np.dtype("uint8"), np.dtype("uint16"))  # what every image codec here takes as it is


@dataclass(frozen=True)
class ImageCodec(ArrayBytesCodec):
    """One frame per chunk (chunk shape (1, H, W) or (1, H, W, C)), coded by an imagecodecs codec."""

    is_fixed_size = False
    codec: tuple  # the numcodecs configuration as sorted (key, value) pairs (hashable, like every zarr codec)

    def __init__(self, *, codec: dict) -> None:
        if not str(codec.get("id", "")).startswith("imagecodecs_"):
            raise ValueError(f"{NAME}: codec {codec!r} is not an imagecodecs codec")
        object.__setattr__(self, "codec", tuple(sorted(codec.items())))
        self.numcodec  # an unknown or unavailable codec fails here, when the array is opened

    @cached_property
    def numcodec(self) -> numcodecs.abc.Codec:
        register_codecs([dict(self.codec)["id"]], verbose=False)
        return numcodecs.get_codec(dict(self.codec))

    @classmethod
    def from_dict(cls, data: dict) -> "ImageCodec":
        _, config = parse_named_configuration(data, NAME)
        return cls(**config)

    def to_dict(self) -> dict:
        return {"name": NAME, "configuration": {"codec": dict(self.codec)}}

    def validate(self, *, shape, dtype, chunk_grid) -> None:
        native = dtype.to_native_dtype()
        if native not in PIXEL_TYPES:
            raise ValueError(f"{NAME}: dtype {native} is not one of {[str(t) for t in PIXEL_TYPES]}")
        chunk_shape = getattr(chunk_grid, "chunk_shape", None)
        if chunk_shape is not None and (chunk_shape[0] != 1 or len(chunk_shape) not in (3, 4)):
            raise ValueError(f"{NAME}: chunk shape {chunk_shape}; one frame per chunk, (1, H, W) or (1, H, W, C)")

    def decode_frame(self, data: bytes | np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """The chunk of `shape` and `dtype` coded in `data` (fastread.py calls this too)."""
        frame = np.asarray(self.numcodec.decode(data))
        if frame.dtype != dtype or frame.size != int(np.prod(shape)):
            raise ValueError(f"{NAME}: decoded {frame.dtype}{frame.shape}, expected {dtype}{tuple(shape)}")
        return frame.reshape(shape)

    def _decode_sync(self, chunk_bytes, chunk_spec):
        frame = self.decode_frame(chunk_bytes.as_numpy_array(), chunk_spec.shape, chunk_spec.dtype.to_native_dtype())
        return chunk_spec.prototype.nd_buffer.from_numpy_array(frame)

    def _encode_sync(self, chunk_array, chunk_spec):
        encoded = self.numcodec.encode(np.ascontiguousarray(chunk_array.as_numpy_array()))
        return chunk_spec.prototype.buffer.from_bytes(bytes(encoded))

    async def _decode_single(self, chunk_bytes, chunk_spec):
        return await asyncio.to_thread(self._decode_sync, chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_array, chunk_spec):
        return await asyncio.to_thread(self._encode_sync, chunk_array, chunk_spec)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec) -> int:
        raise NotImplementedError  # variable: an image codec's output size depends on the pixels


register_codec(NAME, ImageCodec)
