"""Chunking and lossless compression of every array: the one place they are chosen.

Measured with benchmarks/compression.py (table in benchmarks/compression.md; rendered-like
synthetic 128x128 episodes, bytes per step, ratio to raw):

- images (rgb, depth, seg, mask): zstd over chunks of several steps wins by far, because a
  deterministic renderer repeats most pixels from one step to the next and zstd's window reaches
  the previous frames, while blosc splits a chunk into small blocks and loses those matches.
  rgb at 10 steps/chunk: zstd-9 3.0 KB, zstd-3 3.1 KB, blosc-zstd-5+shuffle 5.3 KB, gzip-5
  (MS-HAB's choice) 23.9 KB. Depth: zstd-9 250 B vs gzip-5 999 B; seg: 149 B vs 478 B
  (blosc-zstd+shuffle 135 B: within 10%, so one codec serves every image key); mask 34 B vs 98 B.
  Level 9 costs encode speed only (~400 MB/s, far above the simulator's rate); decode is
  ~5 GB/s at every level.
- low-dimensional float32 keys (qpos, poses, action): ~50-60 B/step whatever the codec;
  blosc-zstd with byte shuffle is the smallest (46 B vs 56 B for qpos at 50 steps/chunk).

Chunks: IMAGE_CHUNK steps per inner chunk keeps a random read of one step to decoding 10 frames
(~0.1 ms). Each array is sharded along time into files of SHARD_STEPS steps. zarr rewrites a
shard file whole when an append touches it, so SHARD_STEPS = MAX_EPISODE_STEPS (200) bounds an
append to rewriting <= 2 files per key of about one episode each. benchmarks/append.py (append.md),
20 episodes of 200 steps (1.44 MB compressed each): bytes written per episode 1.46 MB at 200,
4.35 MB at 1000, 7.95 MB at 2000 (the write amplification of rewriting a filling shard file);
timings on the shared 2-core machine were too noisy to rank (0.25-0.9 s per episode for all).
Cost: one file per key per 200 steps (325 files per 4000 steps, vs 101 at 1000).
Every chain ends with a crc32c checksum so `habaux inspect --verify` catches corrupt chunks.
"""

from zarr.codecs import BloscCodec, BloscShuffle, Crc32cCodec, ZstdCodec

from hab_aux import schema

IMAGE_CHUNK = 10  # steps per inner chunk for image keys
LOWDIM_CHUNK = 200  # steps per inner chunk for vectors and scalars
SHARD_STEPS = 200  # steps per shard file: a multiple of both chunks, = MAX_EPISODE_STEPS
EPISODE_CHUNK = 1024  # episodes per chunk of an episode-level array (tiny, unsharded)


def is_image(key: str) -> bool:
    return len(schema.FIELDS[key].shape) >= 2


def step_array_spec(key: str) -> dict:
    """Keyword arguments for zarr.create_array of one step key (shape set by the writer)."""
    shape = schema.FIELDS[key].shape
    chunk = IMAGE_CHUNK if is_image(key) else LOWDIM_CHUNK
    if is_image(key):
        compressors = [ZstdCodec(level=9), Crc32cCodec()]
    else:
        compressors = [BloscCodec(cname="zstd", clevel=5, shuffle=BloscShuffle.shuffle), Crc32cCodec()]
    return {
        "chunks": (chunk, *shape),
        "shards": (SHARD_STEPS, *shape),
        "compressors": compressors,
    }


def episode_array_spec() -> dict:
    return {"chunks": (EPISODE_CHUNK,), "compressors": [ZstdCodec(level=3), Crc32cCodec()]}
