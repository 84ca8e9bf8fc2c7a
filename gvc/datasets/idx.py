"""Reading and writing IDX files (the MNIST file format): a magic number, big-endian sizes, then the bytes."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array atomically: magic (0, 0, 0x08 = ubyte, ndim), dimension sizes, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    os.replace(tmp, path)


def read_idx(path: Path) -> np.ndarray:
    """A uint8 IDX file as an array of its recorded shape; ValueError if the header does not match the size."""
    data = Path(path).read_bytes()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path} is not a uint8 IDX file")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {body.size} bytes for shape {shape}")
    return body.reshape(shape)
