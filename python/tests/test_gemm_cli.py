"""`daa_gen.gemm` against the `daa gemm` command: results bit for bit and statistics exactly."""

import numpy as np
import pytest

import daa_gen
from conftest import Fmt, assert_bits, load_json, random_f32, seed_of

FORMATS = ["fp32", "bf16", "fp16", "e5m2"]
# Odd K, K = 1, even K; M not a multiple of the kernel's 4 rows, N across 16-column strips.
SHAPES = [(5, 7, 3), (4, 1, 6), (3, 9, 17), (9, 4, 33)]


def lo_settings(fmt, i):
    """Each shape gets other low-path settings: default, L = 0 truncating, L = Y-1, default truncating."""
    return [{}, {"lo_bits": 0, "lo_rounding": "toward-zero"}, {"lo_bits": Fmt(fmt).y - 1}, {"lo_rounding": "toward-zero"}][i]


def cli_gemm(daa, tmp_path, a_file, b_file, cfg_flags):
    c_path, s_path = tmp_path / "C.npy", tmp_path / "S.json"
    a_path, b_path = tmp_path / "A.npy", tmp_path / "B.npy"
    np.save(a_path, a_file)
    np.save(b_path, b_file)
    code, out, err = daa("gemm", "--a", a_path, "--b", b_path, "--out", c_path, "--stats", s_path, *cfg_flags)
    assert code == 0, f"daa gemm failed ({code}): {err}"
    return np.load(c_path), load_json(s_path)


def flags(fmt, policy, lo):
    f = ["--format", fmt, "--policy", policy]
    if "lo_bits" in lo:
        f += ["--lo-bits", str(lo["lo_bits"])]
    if "lo_rounding" in lo:
        f += ["--lo-rounding", lo["lo_rounding"]]
    return f


def check_against_cli(daa, tmp_path, request, fmt, policy, lo, a, b, a_file=None, b_file=None):
    cfg = daa_gen.Config(format=fmt, policy=policy, **lo)
    c_cli, s_cli = cli_gemm(daa, tmp_path, a if a_file is None else a_file, b if b_file is None else b_file,
                            flags(fmt, policy, lo))
    c, stats = daa_gen.gemm(a, b, cfg)
    assert c.dtype == np.float32 and c.shape == (a.shape[0], b.shape[1])
    f = Fmt(fmt)

    def operands(idx):
        i, j = idx
        show = (lambda v: f.describe(v)) if a.dtype != np.float32 else (lambda v: repr(float(v)))
        return f"A[{i}, :] = {[show(v) for v in a[i, :8]]}, B[:, {j}] = {[show(v) for v in b[:8, j]]} (first 8)"

    assert_bits(c_cli, c, request, what=f"gemm {fmt} {policy} {lo} {a.shape}x{b.shape}", operands=operands)
    assert stats == s_cli, f"statistics differ: daa gemm {s_cli}, daa_gen.gemm {stats}"
    assert all(type(v) is int for v in stats.values())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("policy", daa_gen.POLICIES)
def test_gemm_of_codes_equals_the_command(daa, tmp_path, request, fmt, policy):
    f = Fmt(fmt)
    for i, (m, k, n) in enumerate(SHAPES):
        rng = np.random.default_rng(seed_of("codes", fmt, policy, i))
        a, b = f.random(rng, (m, k), corner_share=0.15), f.random(rng, (k, n), corner_share=0.15)
        # The command reads uint16/uint32 files; the binding also takes uint8 for 8-bit formats.
        file_dtype = np.uint32 if f.width > 16 else np.uint16
        check_against_cli(daa, tmp_path, request, fmt, policy, lo_settings(fmt, i),
                          a.astype(f.dtype()), b.astype(f.dtype()), a.astype(file_dtype), b.astype(file_dtype))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("policy", daa_gen.POLICIES)
def test_gemm_of_float32_equals_the_command(daa, tmp_path, request, fmt, policy):
    for i, (m, k, n) in enumerate(SHAPES):
        rng = np.random.default_rng(seed_of("float32", fmt, policy, i))
        check_against_cli(daa, tmp_path, request, fmt, policy, lo_settings(fmt, i),
                          random_f32(rng, (m, k)), random_f32(rng, (k, n)))


@pytest.mark.parametrize("fmt,policy", [("fp32", "daa"), ("bf16", "static"), ("e6m9", "daa"), ("fp16", "single")])
def test_larger_gemm_with_every_code_class_equals_the_command(daa, tmp_path, request, fmt, policy):
    # Any code at all (overflow, FTZ, NaN): the library's FTZ kernel; big enough for several threads.
    f = Fmt(fmt)
    rng = np.random.default_rng(seed_of("large", fmt, policy))
    a = f.random(rng, (37, 301), full_range=True).astype(np.uint32)
    b = f.random(rng, (301, 70), corner_share=0.05).astype(np.uint32)
    check_against_cli(daa, tmp_path, request, fmt, policy, {}, a, b)
    # Operands near the bottom of the exponent range: products that underflow to FTZ.
    a = (a & ~np.uint32(f.emax << f.y)) | (np.uint32(1) << f.y)
    check_against_cli(daa, tmp_path, request, fmt, policy, {}, a, b)
