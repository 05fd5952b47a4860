"""Fashion-MNIST from Debian's `dataset-fashion-mnist` package (no download), normalised as
`daa train` does: (pixel / 255 - 0.2860) / 0.3530, shape N x 1 x 28 x 28."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch

DEFAULT_DIR = Path(os.environ.get("DAA_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
MEAN, STD = 0.2860, 0.3530


def _idx(path: Path, magic: int) -> np.ndarray:
    if not path.is_file():
        raise SystemExit(f"{path}: not found. Install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set DAA_FASHION_MNIST")
    raw = gzip.decompress(path.read_bytes())
    if int.from_bytes(raw[:4], "big") != magic:
        raise SystemExit(f"{path}: not an IDX file with magic {magic:#x}")
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split: str, limit: int | None = None, root: Path = DEFAULT_DIR) -> tuple[torch.Tensor, torch.Tensor]:
    """(images float32 N x 1 x 28 x 28, labels int64 N) of `split` ("train" or "t10k")."""
    images = _idx(root / f"{split}-images-idx3-ubyte.gz", 0x803)[:limit]
    labels = _idx(root / f"{split}-labels-idx1-ubyte.gz", 0x801)[:limit]
    x = (images.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))
