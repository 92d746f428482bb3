"""Random single-step reads of a sharded step array, without zarr's per-call overhead.

zarr 3 costs ~1-2 ms per indexing call (its async machinery, then a shard-index read per inner
chunk), which dominates a training batch of random steps. The sharding format is a fixed part of
the zarr v3 spec: a shard file ends with an index of (offset, nbytes) uint64 pairs per inner chunk
plus a crc32c, and each inner chunk here is [numcodecs delta ->] bytes -> zstd|blosc -> crc32c, or
one frame through an image codec -> crc32c (codecs.py; schema 2 stores have no delta and no image
codec). This reader decodes exactly these chains, checks both checksums, and refuses any other.

Indexes of full shard files are cached: a full shard lies wholly below the commit, and the writer
never rewrites it again. The last, partly filled shard file is re-read on each access, since a
writer may replace it meanwhile (that replacement is atomic, so each read sees one version).
"""

import os
from pathlib import Path

import google_crc32c
import numcodecs
import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, ShardingCodec, ZstdCodec
from zarr.codecs.numcodecs import Delta

from hab_aux.store.image_codec import ImageCodec

_EMPTY = 2**64 - 1
_CHAINS = (
    (BytesCodec, ZstdCodec, Crc32cCodec),
    (BytesCodec, BloscCodec, Crc32cCodec),
    (Delta, BytesCodec, ZstdCodec, Crc32cCodec),
    (ImageCodec, Crc32cCodec),
)


def _checksum_ok(data: bytes) -> bool:
    return len(data) >= 4 and np.uint32(google_crc32c.value(data[:-4])).tobytes() == data[-4:]


def _unchecked(data: bytes, where: str) -> bytes:
    if not _checksum_ok(data):
        raise OSError(f"{where}: checksum mismatch (corrupt or truncated file)")
    return data[:-4]


class StepReader:
    """Reads items of one sharded array by index along its leading axis."""

    def __init__(self, arr: zarr.Array, array_dir: Path, num_committed: int):
        (sharding,) = arr.metadata.codecs
        inner = sharding.codecs if isinstance(sharding, ShardingCodec) else ()
        kinds = tuple(type(c) for c in inner)
        if kinds not in _CHAINS:
            raise ValueError(f"{array_dir}: codec chain {kinds} is not one StepReader decodes")
        self.image = inner[0] if kinds[0] is ImageCodec else None
        self.delta = numcodecs.get_codec(inner[0].codec_config) if kinds[0] is Delta else None
        if self.image is None:
            self.decompressor = numcodecs.Zstd() if ZstdCodec in kinds else numcodecs.Blosc()
        self.dtype = arr.dtype.newbyteorder("<")
        self.chunk_shape = sharding.chunk_shape
        self.shard_len = arr.metadata.chunk_grid.chunk_shape[0]
        self.chunks_per_shard = self.shard_len // self.chunk_shape[0]
        self.dir, self.num_committed = array_dir, num_committed
        self.trailing_key = ("0",) * (len(self.chunk_shape) - 1)
        self._indexes: dict[int, np.ndarray] = {}

    def _path(self, shard: int) -> Path:
        return self.dir.joinpath("c", str(shard), *self.trailing_key)

    def _index_bytes(self, fd: int) -> bytes:
        size = 16 * self.chunks_per_shard + 4
        return os.pread(fd, size, max(0, os.fstat(fd).st_size - size))

    def _index(self, shard: int, fd: int) -> np.ndarray:
        if shard in self._indexes:
            return self._indexes[shard]
        index = np.frombuffer(_unchecked(self._index_bytes(fd), str(self._path(shard))), "<u8").reshape(-1, 2)
        if (shard + 1) * self.shard_len <= self.num_committed:
            self._indexes[shard] = index
        return index

    def decode(self, body: bytes, items: int | None = None) -> np.ndarray:
        """The first `items` items (default: all) of one inner chunk, from its bytes without the checksum.
        Delta decoding is a running sum, so it stops after the last item asked for."""
        if self.image is not None:
            return self.image.decode_frame(body, self.chunk_shape, self.dtype)
        values = np.frombuffer(self.decompressor.decode(body), self.dtype)
        if self.delta is not None:
            items = self.chunk_shape[0] if items is None else items
            values = self.delta.decode(values[: items * int(np.prod(self.chunk_shape[1:]))])
        return values.reshape(-1, *self.chunk_shape[1:])

    def read(self, indices: np.ndarray) -> np.ndarray:
        """Items at `indices` (sorted, unique, all committed), stacked."""
        out = np.empty((len(indices), *self.chunk_shape[1:]), self.dtype)
        chunk_len = self.chunk_shape[0]
        shards = indices // self.shard_len
        for shard in np.unique(shards):
            path = self._path(int(shard))
            fd = os.open(path, os.O_RDONLY)
            try:
                index = self._index(int(shard), fd)
                rows = np.nonzero(shards == shard)[0]
                chunks = (indices[rows] % self.shard_len) // chunk_len
                for chunk in np.unique(chunks):
                    offset, nbytes = index[chunk]
                    if offset == _EMPTY:
                        raise OSError(f"{path}: inner chunk {chunk} is missing")
                    hit = rows[chunks == chunk]
                    body = _unchecked(os.pread(fd, int(nbytes), int(offset)), str(path))
                    values = self.decode(body, items=int(indices[hit].max() % chunk_len) + 1)
                    out[hit] = values[indices[hit] % chunk_len]
            finally:
                os.close(fd)
        return out

    def check_shard(self, shard: int, num_items: int) -> list[str]:
        """Problems of shard file `shard` holding `num_items` committed items: its index, then every
        inner chunk that holds committed items (checksum, then decode), each named with its items."""
        chunk_len, first = self.chunk_shape[0], shard * self.shard_len
        fd = os.open(self._path(shard), os.O_RDONLY)
        try:
            data = self._index_bytes(fd)
            if not _checksum_ok(data):
                return ["shard index corrupt (checksum mismatch: corrupt or truncated file)"]
            index, problems = np.frombuffer(data[:-4], "<u8").reshape(-1, 2), []
            for chunk in range((num_items + chunk_len - 1) // chunk_len):
                last = first + min(num_items, (chunk + 1) * chunk_len) - 1
                where = f"inner chunk {chunk} (items {first + chunk * chunk_len}..{last})"
                offset, nbytes = index[chunk]
                if offset == _EMPTY:
                    problems.append(f"{where} missing")
                    continue
                body = os.pread(fd, int(nbytes), int(offset))
                if len(body) != nbytes or not _checksum_ok(body):
                    problems.append(f"{where} corrupt (checksum mismatch)")
                    continue
                try:
                    self.decode(body[:-4])
                except Exception as err:  # the checksum holds but the codec refuses the bytes
                    problems.append(f"{where} corrupt ({type(err).__name__}: {err})".splitlines()[0])
            return problems
        finally:
            os.close(fd)
