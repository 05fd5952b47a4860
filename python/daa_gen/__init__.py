"""The bit-exact golden model of daa-gen, on numpy arrays.

daa-gen generates Dynamic Asymmetric Architecture (DAA) systolic arrays: a processing
element (PE) takes two operand streams per cycle but has one full-precision and one
low-precision multiplier, and a controller gives the full multiplier to the stream whose
product is larger. This package is the arithmetic that hardware is proven bit-exact
against, compiled from the same Rust library as the ``daa`` command (no arithmetic is
written in Python).

The arithmetic in short:

- Operands are F_in codes, ``eXmY``: sign, X exponent bits with IEEE bias (all-ones =
  Inf/NaN), Y fraction bits (``FORMATS`` names the presets). They are widened exactly to
  binary32 (``decode``); the accumulator is binary32.
- ``mul`` and ``add`` are IEEE binary32 with round-to-nearest-even, plus: subnormal
  inputs read as signed zero (DAZ), subnormal results, decided after IEEE rounding, become
  signed zero (FTZ), and every NaN is the canonical ``0x7FC00000``.
- ``q`` rounds a significand to ``lo_bits`` fraction bits (nearest-even or toward zero);
  a carry may bump the exponent, and out of the largest binade it gives Inf.
- The controller key of a stream is the sum of its two raw exponent fields, 0 if either is
  0. ``daa``: the larger key gets the full multiplier, ties go to stream 0; ``static``:
  stream 0 always; ``full``: two full multipliers; ``single``: one stream.
- A step: ``acc = add(acc, add(mul(a_h, b_h), mul(q(a_l), q(b_l))))`` (``pe_step``).
- A GEMM element folds the steps over t from +0, stream 0 = (A[i, 2t], B[2t, j]) and
  stream 1 = (A[i, 2t+1], B[2t+1, j]); an odd K pads with +0 (``gemm``).

Example::

    import numpy as np, daa_gen
    cfg = daa_gen.Config(format="bf16", policy="daa")
    a = np.random.default_rng(1).standard_normal((64, 32), dtype=np.float32)
    b = np.random.default_rng(2).standard_normal((32, 16), dtype=np.float32)
    c, stats = daa_gen.gemm(a, b, cfg)   # a, b rounded to bf16 with RNE; c float32
"""

from ._native import (
    FORMAT_ALLOWED,
    FORMATS,
    POLICIES,
    Config,
    __version__,
    add,
    decode,
    encode,
    gemm,
    mul,
    pe_step,
    q,
)

__all__ = [
    "FORMAT_ALLOWED",
    "FORMATS",
    "POLICIES",
    "Config",
    "__version__",
    "add",
    "decode",
    "encode",
    "gemm",
    "mul",
    "pe_step",
    "q",
]
