"""Shared by the tests: the `daa` command, numpy oracles, operand generators, mismatch reports."""

import json
import os
import pathlib
import subprocess
import zlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def require(ok, what):
    """A missing prerequisite fails the test under CI and skips it elsewhere."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {what}", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def daa():
    """Runs the `daa` command (target/release/daa, or $DAA_BIN); returns (status, stdout, stderr)."""
    path = pathlib.Path(os.environ.get("DAA_BIN", ROOT / "target" / "release" / "daa"))
    require(path.is_file(), f"the daa command is missing at {path} (cargo build --release)")

    def run(*args):
        p = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    return run


def seed_of(*parts):
    """A stable seed from test parameters (same test, same operands)."""
    return zlib.crc32(repr(parts).encode())


# ---- binary32 bits and numpy oracles (independent of the library) ----


def bits(x):
    return np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)


def from_bits(b):
    return np.ascontiguousarray(b, dtype=np.uint32).view(np.float32)


def flush(x):
    """Subnormal -> zero of the same sign (DAZ on inputs, FTZ on results)."""
    b = bits(x).copy()
    sub = (b & 0x7F800000) == 0
    b[sub] &= 0x80000000
    return from_bits(b)


def canonical(x):
    b = bits(x).copy()
    b[np.isnan(from_bits(b))] = 0x7FC00000
    return from_bits(b)


def np_mul(a, b):
    """Host IEEE binary32 product (numpy does not flush) plus DAZ, FTZ after rounding, canonical NaN."""
    with np.errstate(all="ignore"):
        return canonical(flush(np.multiply(flush(a), flush(b), dtype=np.float32)))


def np_add(a, b):
    with np.errstate(all="ignore"):
        return canonical(flush(np.add(flush(a), flush(b), dtype=np.float32)))


def np_q(x, lo_bits, rounding):
    """q by float64 arithmetic: scale to an integer significand, round or truncate, scale back.

    Ties go to the candidate whose binary32 encoding ends in 0 at the kept last bit (for
    lo_bits = 0 that bit is the exponent's lowest: q rounds on the encoding).
    """
    x = flush(x)
    e = ((bits(x) >> 23) & 0xFF).astype(np.int64)
    special = (e == 0) | (e == 0xFF)
    scale = np.ldexp(1.0, np.where(special, 0, e - 127 - lo_bits))
    with np.errstate(all="ignore"):
        y = np.abs(x.astype(np.float64)) / scale
        down, up = np.floor(y), np.floor(y) + 1
        sign = np.where(np.signbit(x), -1.0, 1.0)
        as32 = lambda v: (sign * v * scale).astype(np.float32)  # exact, or Inf beyond binary32's range
        if rounding == "toward-zero":
            r = as32(down)
        else:
            up_is_even = ((bits(as32(up)) >> (23 - lo_bits)) & 1) == 0
            r = np.where((y - down > 0.5) | ((y - down == 0.5) & up_is_even), as32(up), as32(down))
    return np.where(special, x, r)


class Fmt:
    """An eXmY format's fields, decoded in numpy."""

    def __init__(self, name):
        presets = {"fp32": (8, 23), "tf32": (8, 10), "bf16": (8, 7), "fp16": (5, 10)}
        if name in presets:
            self.x, self.y = presets[name]
        else:
            x, y = name[1:].split("m")
            self.x, self.y = int(x), int(y)
        self.name = name
        self.width = 1 + self.x + self.y
        self.emax = (1 << self.x) - 1
        self.bias = (1 << (self.x - 1)) - 1

    def exp(self, c):
        return (np.asarray(c, np.uint32) >> self.y) & self.emax

    def decode(self, c):
        """Exact widening to binary32 with DAZ and canonical NaN."""
        c = np.asarray(c, np.uint32)
        s = (c >> (self.width - 1)) & 1
        e = self.exp(c)
        f = c & ((1 << self.y) - 1)
        normal = (s << 31) | ((e + (127 - self.bias)) << 23) | (f << (23 - self.y))
        special = np.where(f == 0, (s << 31) | 0x7F800000, 0x7FC00000)
        out = np.where(e == 0, s << 31, np.where(e == self.emax, special, normal))
        return from_bits(out.astype(np.uint32))

    def key(self, a, b):
        ea, eb = self.exp(a), self.exp(b)
        return np.where((ea == 0) | (eb == 0), 0, ea + eb)

    def dtype(self):
        return np.uint8 if self.width <= 8 else np.uint16 if self.width <= 16 else np.uint32

    def describe(self, code):
        c = int(code)
        e, f = (c >> self.y) & self.emax, c & ((1 << self.y) - 1)
        cls = "zero" if e == 0 and f == 0 else "subnormal(DAZ->0)" if e == 0 else "inf" if e == self.emax and f == 0 else "nan" if e == self.emax else "normal"
        return f"{c:#x} [{self.name} s={c >> (self.width - 1)} e={e:#x} f={f:#x} {cls}]"

    def corners(self):
        """Codes of every corner class, both signs."""
        y, emax, bias = self.y, self.emax, self.bias
        mags = [
            0,  # zero
            1,  # smallest subnormal
            (1 << y) - 1,  # largest subnormal
            1 << y,  # smallest normal
            (1 << y) | 1,
            bias << y,  # one
            (bias << y) | (1 << (y - 1)),  # 1.5: a tie for q
            ((emax - 1) << y) | ((1 << y) - 1),  # largest normal
            emax << y,  # Inf
            (emax << y) | 1,  # NaN
            (emax << y) | (1 << (y - 1)),  # quiet NaN
        ]
        sign = 1 << (self.width - 1)
        return np.array(mags + [m | sign for m in mags], dtype=np.uint32)

    def random(self, rng, shape, corner_share=0.1, full_range=False):
        """Codes: normal values around 1 (or any code with `full_range`), a share of corner codes."""
        if full_range:
            codes = rng.integers(0, 1 << self.width, size=shape, dtype=np.uint64).astype(np.uint32)
        else:
            s = min(self.bias - 1, 12)
            e = rng.integers(self.bias - s, self.bias + s + 1, size=shape).astype(np.uint32)
            f = rng.integers(0, 1 << self.y, size=shape).astype(np.uint32)
            sign = rng.integers(0, 2, size=shape).astype(np.uint32) << (self.width - 1)
            codes = sign | (e << self.y) | f
        pick = rng.random(shape) < corner_share
        codes[pick] = rng.choice(self.corners(), size=int(pick.sum()))
        return codes


def random_f32(rng, shape, special_share=0.1):
    """float32 values over many binades plus specials (signed zeros, subnormals, Inf, NaNs, extremes)."""
    x = (rng.standard_normal(shape) * np.ldexp(1.0, rng.integers(-20, 21, size=shape))).astype(np.float32)
    specials = from_bits(
        np.array(
            [0, 0x80000000, 1, 0x807FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F800000, 0xFF800000,
             0x7FC00000, 0xFFC00001, 0x7F800001, 0x3F808000, 0x3F818000, 0x477FF000, 0x33800000, 0x38000000],
            dtype=np.uint32,
        )
    )
    pick = rng.random(shape) < special_share
    x[pick] = rng.choice(specials, size=int(pick.sum()))
    return x


# ---- mismatch reports ----


def describe_f32(b):
    b = int(b)
    e, f = (b >> 23) & 0xFF, b & 0x7FFFFF
    cls = "zero" if e == 0 and f == 0 else "subnormal" if e == 0 else "inf" if e == 0xFF and f == 0 else "nan" if e == 0xFF else "normal"
    return f"{b:08x} [s={b >> 31} e={e:#04x} f={f:#08x} {cls}] = {float(np.uint32(b).view(np.float32)):e}"


def reproducer(request):
    path = pathlib.Path(request.node.path).relative_to(ROOT)
    return f"cd {ROOT} && .venv/bin/python -m pytest '{path}::{request.node.name}'"


def assert_bits(expected, actual, request, what="result", operands=None, extra=""):
    """Compares binary32 results bit for bit; on a mismatch reports operands, both values field by field, a reproducer."""
    e, a = bits(expected), bits(actual)
    assert e.shape == a.shape, f"{what}: shapes {e.shape} and {a.shape}"
    bad = np.argwhere(e != a)
    if len(bad) == 0:
        return
    lines = [f"{what}: {len(bad)} of {e.size} values differ {extra}".rstrip()]
    for idx in bad[:3]:
        idx = tuple(int(i) for i in idx)
        lines.append(f"  at {idx}: {operands(idx) if operands else ''}")
        lines.append(f"    expected {describe_f32(e[idx])}")
        lines.append(f"    actual   {describe_f32(a[idx])}")
    lines.append(f"  reproduce: {reproducer(request)}")
    pytest.fail("\n".join(lines), pytrace=False)


def load_json(path):
    with open(path) as f:
        return json.load(f)
