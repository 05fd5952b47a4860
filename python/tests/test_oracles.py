"""encode, decode, q, mul, add, pe_step and gemm against oracles written here in numpy."""

import numpy as np
import pytest

import daa_gen
from conftest import (Fmt, assert_bits, bits, canonical, describe_f32, flush, from_bits, np_add, np_mul, np_q,
                      random_f32, seed_of)


def interesting_f32(rng, n):
    """binary32 bit patterns weighted to the corners: zeros, subnormals, extremes, Inf, NaN, near-ties."""
    b = rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)
    e = rng.choice(np.array([0, 1, 2, 0x3F, 0x7E, 0x7F, 0x80, 0xBF, 0xFD, 0xFE, 0xFF], dtype=np.uint32), size=n)
    pick = rng.random(n) < 0.5
    b[pick] = (b[pick] & 0x807FFFFF) | (e[pick] << 23)
    low = rng.random(n) < 0.2  # few fraction bits set: exact products, ties
    b[low] &= 0xFFFF8000
    return from_bits(b)


def test_decode_of_every_bf16_code_is_the_top_half_of_binary32(request):
    codes = np.arange(1 << 16, dtype=np.uint32)
    expected = codes << 16
    e = (codes >> 7) & 0xFF
    f = codes & 0x7F
    expected = np.where(e == 0, expected & 0x80000000, expected)  # DAZ
    expected = np.where((e == 0xFF) & (f != 0), 0x7FC00000, expected)  # canonical NaN
    got = daa_gen.decode(codes.astype(np.uint16), "bf16")
    assert_bits(from_bits(expected.astype(np.uint32)), got, request, "decode bf16",
                operands=lambda i: Fmt("bf16").describe(codes[i]))


def test_decode_of_every_fp16_code_equals_numpy_float16_with_daz(request):
    codes = np.arange(1 << 16, dtype=np.uint16)
    with np.errstate(all="ignore"):
        expected = codes.view(np.float16).astype(np.float32)  # exact widening
    expected = canonical(flush(expected))
    sub = ((codes >> 10) & 0x1F) == 0  # fp16 subnormals are normal binary32 values: DAZ reads them as zero
    expected = np.where(sub, from_bits((codes.astype(np.uint32) >> 15) << 31), expected)
    got = daa_gen.decode(codes, "fp16")
    assert_bits(expected, got, request, "decode fp16", operands=lambda i: Fmt("fp16").describe(codes[i]))


def test_encode_bf16_equals_round_to_nearest_even_on_the_bits(request):
    rng = np.random.default_rng(1)
    x = np.concatenate([interesting_f32(rng, 300_000), random_f32(rng, 100_000)])
    b = bits(flush(x)).astype(np.uint64)  # DAZ first
    rounded = (b + 0x7FFF + ((b >> 16) & 1)) >> 16  # RNE; a carry runs into the exponent and up to Inf
    expected = np.where(np.isnan(x), 0x7FC0, rounded).astype(np.uint32)
    got = daa_gen.encode(x, "bf16")
    assert got.dtype == np.uint32 and got.shape == x.shape
    bad = np.flatnonzero(got != expected)
    assert len(bad) == 0, [(describe_f32(bits(x)[i]), hex(expected[i]), hex(got[i])) for i in bad[:5]]


def test_encode_fp16_equals_numpy_float16(request):
    rng = np.random.default_rng(2)
    x = np.concatenate([interesting_f32(rng, 300_000), random_f32(rng, 100_000),
                        from_bits(np.arange(0x33000000, 0x47800000, 997, dtype=np.uint32))])
    with np.errstate(all="ignore"):
        expected = flush(x).astype(np.float16).view(np.uint16).astype(np.uint32)  # IEEE RNE, subnormals kept
    expected = np.where(np.isnan(x), 0x7E00, expected)
    got = daa_gen.encode(x, "fp16")
    bad = np.flatnonzero(got != expected)
    assert len(bad) == 0, [(describe_f32(bits(x)[i]), hex(expected[i]), hex(got[i])) for i in bad[:5]]
    # And decode(encode(x)) is x rounded, with F_in subnormals read as zero.
    assert_bits(daa_gen.decode(expected, "fp16"), daa_gen.decode(got, "fp16"), request, "round trip")


@pytest.mark.parametrize("op", ["mul", "add"])
def test_mul_and_add_equal_numpy_float32_with_daz_ftz_and_canonical_nan(request, op):
    rng = np.random.default_rng(seed_of(op))
    a, b = interesting_f32(rng, 1_000_000), interesting_f32(rng, 1_000_000)
    # The FTZ boundary: products around 2^-126, where rounding decides between flush and normal.
    m = from_bits(np.uint32(0x3F800000) | rng.integers(0, 1 << 23, 50_000).astype(np.uint32))
    a = np.concatenate([a, m, from_bits(np.full(4, 0x3F7FFFFF, np.uint32))])
    b = np.concatenate([b, (np.float32(2.0**-126) / m).astype(np.float32), from_bits(np.full(4, 0x00800000, np.uint32))])
    if op == "add":
        b[-50_004:] = -b[-50_004:] * np.float32(0.5)
    expected = (np_mul if op == "mul" else np_add)(a, b)
    got = getattr(daa_gen, op)(a, b)
    assert_bits(expected, got, request, op, operands=lambda i: f"{describe_f32(bits(a)[i])} {op} {describe_f32(bits(b)[i])}")


@pytest.mark.parametrize("rounding", ["nearest-even", "toward-zero"])
def test_q_equals_scaled_rounding_in_float64(request, rounding):
    rng = np.random.default_rng(seed_of("q", rounding))
    x = np.concatenate([interesting_f32(rng, 200_000), random_f32(rng, 50_000)])
    for lo in range(23):
        got = daa_gen.q(x, lo, rounding)
        assert_bits(np_q(x, lo, rounding), got, request, f"q(x, {lo}, {rounding})",
                    operands=lambda i: describe_f32(bits(x)[i]))


def pe_oracle(fmt, cfg, acc, a0, b0, a1, b1):
    """The contract's step composed from the binding's mul, q, add and a key computed here."""
    f = Fmt(fmt)
    high = (f.key(a1, b1) > f.key(a0, b0)) if cfg.policy == "daa" else np.zeros(np.shape(a0), bool)
    pick = lambda one, zero: np.where(high, one, zero)
    ah, bh, al, bl = (f.decode(c) for c in (pick(a1, a0), pick(b1, b0), pick(a0, a1), pick(b0, b1)))
    if cfg.policy in ("daa", "static"):
        al, bl = daa_gen.q(al, cfg.lo_bits, cfg.lo_rounding), daa_gen.q(bl, cfg.lo_bits, cfg.lo_rounding)
    p_h, p_l = daa_gen.mul(ah, bh), daa_gen.mul(al, bl)
    return daa_gen.add(acc, daa_gen.add(p_h, p_l)), high.astype(np.uint8), p_h, p_l


@pytest.mark.parametrize("fmt", ["fp32", "bf16", "fp16", "e5m2", "e6m9"])
@pytest.mark.parametrize("policy", ["daa", "static", "full"])
def test_pe_step_equals_the_composed_contract(request, fmt, policy):
    f = Fmt(fmt)
    rng = np.random.default_rng(seed_of("pe", fmt, policy))
    n = 20_000
    a0, b0, a1, b1 = (f.random(rng, n, corner_share=0.2) for _ in range(4))
    # Equal keys (ties go to stream 0) and zeros against non-zeros.
    a1[:500], b1[:500] = a0[:500], b0[:500]
    acc = random_f32(rng, n)
    for lo in (0, f.y - 1):
        cfg = daa_gen.Config(format=fmt, policy=policy, lo_bits=lo)
        dtype = f.dtype()
        got = daa_gen.pe_step(acc, a0.astype(dtype), b0.astype(dtype), a1.astype(dtype), b1.astype(dtype), cfg)
        want = pe_oracle(fmt, cfg, acc, a0, b0, a1, b1)
        ops = lambda i: f"acc {describe_f32(bits(acc)[i])}, " + ", ".join(f.describe(c[i]) for c in (a0, b0, a1, b1))
        assert np.array_equal(got[1], want[1]), "controller decisions differ"
        assert got[1].dtype == np.uint8
        for name, g, w in zip(("acc_next", "high", "p_h", "p_l"), got, want):
            if name != "high":
                assert_bits(w, g, request, f"pe_step {name} (lo_bits {lo})", operands=ops)
    # The same step with the accumulator given as binary32 bits.
    assert_bits(got[0], daa_gen.pe_step(bits(acc), a0, b0, a1, b1, cfg)[0], request, "acc as uint32 bits")


def test_pe_step_single_is_add_of_mul(request):
    f = Fmt("bf16")
    rng = np.random.default_rng(7)
    a, b = f.random(rng, 10_000, corner_share=0.2), f.random(rng, 10_000, corner_share=0.2)
    acc = random_f32(rng, 10_000)
    cfg = daa_gen.Config(format="bf16", policy="single")
    got = daa_gen.pe_step(acc, a, b, cfg)
    assert_bits(np_add(acc, np_mul(f.decode(a), f.decode(b))), got, request, "single step")


def gemm_fold(fmt, cfg, a, b):
    """The contract's GEMM as an ordered fold in numpy (numpy oracles only), with the statistics."""
    f = Fmt(fmt)
    m, k = a.shape
    n = b.shape[1]
    acc = np.zeros((m, n), np.float32)
    st = dict(steps=0, high_stream0=0, high_stream1=0, products=0, zero_products=0, reduced_operands=0,
              reductions_changed=0)
    if cfg.policy == "single":
        for t in range(k):
            p = np_mul(f.decode(a[:, t])[:, None], f.decode(b[t, :])[None, :])
            acc = np_add(acc, p)
            st["steps"] += m * n
            st["products"] += m * n
            st["zero_products"] += int((p == 0).sum())
        return acc, st
    pad = lambda x, axis: np.concatenate([x, np.zeros_like(x.take([0], axis))], axis) if k % 2 else x
    a, b = pad(a, 1), pad(b, 0)
    for t in range((k + 1) // 2):
        a0, a1 = np.broadcast_to(a[:, 2 * t, None], (m, n)), np.broadcast_to(a[:, 2 * t + 1, None], (m, n))
        b0, b1 = np.broadcast_to(b[2 * t, None, :], (m, n)), np.broadcast_to(b[2 * t + 1, None, :], (m, n))
        high = (f.key(a1, b1) > f.key(a0, b0)) if cfg.policy == "daa" else np.zeros((m, n), bool)
        ah, bh = f.decode(np.where(high, a1, a0)), f.decode(np.where(high, b1, b0))
        al, bl = f.decode(np.where(high, a0, a1)), f.decode(np.where(high, b0, b1))
        if cfg.policy != "full":
            ql, qr = np_q(al, cfg.lo_bits, cfg.lo_rounding), np_q(bl, cfg.lo_bits, cfg.lo_rounding)
            st["reductions_changed"] += int((bits(ql) != bits(al)).sum() + (bits(qr) != bits(bl)).sum())
            st["reduced_operands"] += 2 * m * n
            st["high_stream0"] += int((~high).sum())
            st["high_stream1"] += int(high.sum())
            al, bl = ql, qr
        p_h, p_l = np_mul(ah, bh), np_mul(al, bl)
        acc = np_add(acc, np_add(p_h, p_l))
        st["steps"] += m * n
        st["products"] += 2 * m * n
        st["zero_products"] += int((p_h == 0).sum() + (p_l == 0).sum())
    return acc, st


@pytest.mark.parametrize("fmt", ["fp32", "bf16", "fp16", "e5m2"])
@pytest.mark.parametrize("policy", daa_gen.POLICIES)
def test_gemm_equals_an_ordered_numpy_fold(request, fmt, policy):
    f = Fmt(fmt)
    for (m, k, n), lo in zip([(3, 5, 4), (6, 1, 17), (5, 12, 9), (2, 33, 3)], [None, 0, f.y - 1, None]):
        rng = np.random.default_rng(seed_of("fold", fmt, policy, m, k, n))
        a, b = f.random(rng, (m, k), corner_share=0.15), f.random(rng, (k, n), corner_share=0.15)
        cfg = daa_gen.Config(format=fmt, policy=policy, lo_bits=lo)
        c, stats = daa_gen.gemm(a, b, cfg)
        want, want_stats = gemm_fold(fmt, cfg, a, b)
        assert_bits(want, c, request, f"gemm {m}x{k}x{n} lo_bits {cfg.lo_bits}",
                    operands=lambda ij: f"A[{ij[0]}] = {[hex(v) for v in a[ij[0]]]}, B[:, {ij[1]}] = {[hex(v) for v in b[:, ij[1]]]}")
        assert stats == want_stats
