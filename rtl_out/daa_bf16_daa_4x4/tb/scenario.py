"""What both testbenches share: settings from the environment, random GEMMs, the golden
model's answer (`daa_gen`), and the scoreboard with its mismatch report."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import numpy as np

import daa_gen
from reference import PACKAGE, Interface, describe


def setting(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


SEED = setting("DAA_TB_SEED", 1)
GEMMS = setting("DAA_TB_GEMMS", 4)
SIM = os.environ.get("DAA_TB_SIM", "icarus")
TOP = os.environ.get("DAA_TB_TOP", "native")


def reproducer(test: str) -> str:
    return f"make -C tb SIM={SIM} TOP={TOP} SEED={SEED} GEMMS={GEMMS} TESTCASE={test}"


def load() -> tuple[Interface, "daa_gen.Config"]:
    iface = Interface.load()
    return iface, daa_gen.Config.from_toml(str(PACKAGE / f"{iface.name}.toml"))


def corner_codes(iface: Interface, exp_bits: int) -> list[int]:
    """Zeros of both signs, the smallest subnormal, the largest normal, 1.0, Inf, NaN."""
    w, y = iface.width, iface.width - 1 - exp_bits
    sign = 1 << (w - 1)
    inf = ((1 << exp_bits) - 1) << y
    max_normal = (((1 << exp_bits) - 2) << y) | ((1 << y) - 1)
    one = ((1 << (exp_bits - 1)) - 1) << y
    return [0, sign, 1, max_normal, sign | max_normal, one, inf, sign | inf, inf | (1 << (y - 1))]


@dataclass
class Job:
    """One GEMM: operands, the golden results and statistics, and what came back."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    stats: dict
    tiles: list[tuple[int, int]]
    rows: dict[tuple[int, int, int], int] = field(default_factory=dict)


def random_job(iface: Interface, cfg, rng: random.Random) -> Job:
    """A GEMM with M and N below, at and above the tile, K from 1 (odd and even) up; values
    like activations and weights with corner codes sprinkled in."""
    m = rng.randint(1, 2 * iface.tile_rows + 1)
    n = rng.randint(1, 2 * iface.cols + 1)
    # Long K as well, so that tiles also run back to back without bubbles (README "Timing").
    k = rng.choice([1, 2, 3, rng.randint(1, 4 * max(iface.rows, iface.cols) + 5),
                    rng.randint(1, 2 * iface.lanes * (iface.rows + iface.cols + iface.latency + iface.tile_rows))])
    nrng = np.random.default_rng(rng.getrandbits(32))
    a = daa_gen.encode(np.maximum(nrng.normal(0, 1, (m, k)), 0).astype(np.float32), cfg.format)
    b = daa_gen.encode(nrng.normal(0, 0.5, (k, n)).astype(np.float32), cfg.format)
    corners = corner_codes(iface, cfg.exp_bits)
    rate = rng.choice([0.0, 0.02, 0.06])
    for x in (a, b):
        hit = nrng.random(x.shape) < rate
        x[hit] = nrng.choice(corners, size=int(hit.sum()))
    c, stats = daa_gen.gemm(a, b, cfg)
    return Job(a, b, c.view(np.uint32), stats, iface.tiles(m, n))


class Scoreboard:
    """Compares every result inside M x N with the golden model; padding outputs (rows
    beyond M, columns beyond N) are not part of C and are not compared (README.md,
    "Arithmetic": they need not be +0)."""

    def __init__(self, iface: Interface, test: str):
        self.iface, self.test = iface, test
        self.checked = 0
        self.errors: list[str] = []

    def row(self, job: Job, tile: int, row: int, data: int) -> None:
        ti, tj = job.tiles[tile]
        i = ti * self.iface.tile_rows + row
        (m, k), n = job.a.shape, job.b.shape[1]
        if i >= m:
            return
        for col in range(self.iface.cols):
            j = tj * self.iface.cols + col
            if j >= n:
                continue
            got = (data >> (32 * col)) & 0xFFFFFFFF
            want = int(job.c[i, j])
            self.checked += 1
            if got != want and len(self.errors) < 5:
                hx = lambda v: " ".join(f"{int(x):x}" for x in v[:24]) + (" ..." if len(v) > 24 else "")
                self.errors.append(
                    f"MISMATCH in C[{i}][{j}] of a {m}x{k}x{n} GEMM (tile {ti},{tj}, out_row {row}, column {col}):\n"
                    f"  expected {describe(want)}\n  actual   {describe(got)}\n"
                    f"  A[{i}][:] = {hx(job.a[i])}\n  B[:][{j}] = {hx(job.b[:, j])}\n"
                    f"  reproduce: {reproducer(self.test)}"
                )
            elif got != want:
                self.errors.append("")

    def check(self) -> None:
        bad = [e for e in self.errors if e]
        assert not self.errors, f"{len(self.errors)} mismatches of {self.checked} results\n" + "\n".join(bad)
        assert self.checked > 0, "no result was compared"
