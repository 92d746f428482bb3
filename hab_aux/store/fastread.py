"""Random single-step reads of a sharded step array, without zarr's per-call overhead.

zarr 3 costs ~1-2 ms per indexing call (its async machinery, then a shard-index read per inner
chunk), which dominates a training batch of random steps. The sharding format is a fixed part of
the zarr v3 spec: a shard file ends with an index of (offset, nbytes) uint64 pairs per inner chunk
plus a crc32c, and each inner chunk here is bytes -> zstd|blosc -> crc32c (codecs.py). This reader
decodes exactly that chain, checks both checksums, and refuses any other chain.

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

_EMPTY = 2**64 - 1


def _unchecked(data: bytes, where: str) -> bytes:
    body, stored = data[:-4], data[-4:]
    if np.uint32(google_crc32c.value(body)).tobytes() != stored:
        raise OSError(f"{where}: checksum mismatch (corrupt or truncated file)")
    return body


class StepReader:
    """Reads items of one sharded array by index along its leading axis."""

    def __init__(self, arr: zarr.Array, array_dir: Path, num_committed: int):
        (sharding,) = arr.metadata.codecs
        inner = sharding.codecs if isinstance(sharding, ShardingCodec) else ()
        kinds = tuple(type(c) for c in inner)
        if kinds not in ((BytesCodec, ZstdCodec, Crc32cCodec), (BytesCodec, BloscCodec, Crc32cCodec)):
            raise ValueError(f"{array_dir}: codec chain {kinds} is not one StepReader decodes")
        self.decompressor = numcodecs.Zstd() if kinds[1] is ZstdCodec else numcodecs.Blosc()
        self.dtype = arr.dtype.newbyteorder("<")
        self.chunk_shape = sharding.chunk_shape
        self.shard_len = arr.metadata.chunk_grid.chunk_shape[0]
        self.chunks_per_shard = self.shard_len // self.chunk_shape[0]
        self.dir, self.num_committed = array_dir, num_committed
        self.trailing_key = ("0",) * (len(self.chunk_shape) - 1)
        self._indexes: dict[int, np.ndarray] = {}

    def _path(self, shard: int) -> Path:
        return self.dir.joinpath("c", str(shard), *self.trailing_key)

    def _index(self, shard: int, fd: int) -> np.ndarray:
        if shard in self._indexes:
            return self._indexes[shard]
        size = 16 * self.chunks_per_shard + 4
        end = os.fstat(fd).st_size
        index = np.frombuffer(_unchecked(os.pread(fd, size, end - size), str(self._path(shard))), "<u8").reshape(-1, 2)
        if (shard + 1) * self.shard_len <= self.num_committed:
            self._indexes[shard] = index
        return index

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
                    body = _unchecked(os.pread(fd, int(nbytes), int(offset)), str(path))
                    values = np.frombuffer(self.decompressor.decode(body), self.dtype).reshape(self.chunk_shape)
                    hit = rows[chunks == chunk]
                    out[hit] = values[indices[hit] % chunk_len]
            finally:
                os.close(fd)
        return out
