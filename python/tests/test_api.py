"""Conventions of the package: accepted inputs, errors, copies, scalars, the GIL, the version."""

import importlib.metadata
import threading

import numpy as np
import pytest

import daa_gen
from conftest import Fmt, assert_bits, bits, random_f32, seed_of

CFG = daa_gen.Config(format="bf16", policy="daa")


def operands(seed, m=13, k=9, n=21):
    rng = np.random.default_rng(seed)
    f = Fmt("bf16")
    return f.random(rng, (m, k)).astype(np.uint16), f.random(rng, (k, n)).astype(np.uint16)


def test_version_is_the_crates(daa):
    code, out, _ = daa("--version")
    assert code == 0 and out.split() == ["daa", daa_gen.__version__]
    assert importlib.metadata.version("daa-gen") == daa_gen.__version__


def test_every_function_states_its_arithmetic():
    words = {
        daa_gen.gemm: ["DAZ", "FTZ", "0x7FC00000", "raw exponent", "tie goes to stream 0", "2t+1", "+0", "k order"],
        daa_gen.encode: ["round-to-nearest-even", "DAZ", "subnormal", "Inf", "NaN"],
        daa_gen.decode: ["exact", "DAZ", "0x7FC00000"],
        daa_gen.q: ["lo_bits", "ties to even", "exponent", "Inf"],
        daa_gen.mul: ["DAZ", "FTZ", "after IEEE rounding", "0x7FC00000"],
        daa_gen.add: ["DAZ", "FTZ", "0x7FC00000"],
        daa_gen.pe_step: ["key", "tie goes", "q(a_l)", "single"],
        daa_gen.Config: ["ValueError", "lo_bits", "eXmY"],
    }
    for obj, needed in words.items():
        for w in needed:
            assert w in obj.__doc__, (obj.__name__, w)
    for w in ["DAZ", "FTZ", "0x7FC00000", "ties go to stream 0", "odd K pads with +0"]:
        assert w in daa_gen.__doc__


def test_code_dtypes_and_float32_give_the_same_gemm():
    a, b = operands(1)
    c = daa_gen.gemm(a, b, CFG, stats=False)
    for conv in (np.uint32,):
        assert np.array_equal(bits(daa_gen.gemm(a.astype(conv), b.astype(conv), CFG, stats=False)), bits(c))
    # float32 operands that are exactly the codes' values encode back to the same codes.
    af, bf = daa_gen.decode(a, "bf16"), daa_gen.decode(b, "bf16")
    ok = ~np.isnan(af).any() and ~np.isnan(bf).any()
    if ok:
        assert np.array_equal(bits(daa_gen.gemm(af, bf, CFG, stats=False)), bits(c))
    e5 = Fmt("e5m2").random(np.random.default_rng(3), (4, 6))
    cfg8 = daa_gen.Config(format="e5m2")
    assert np.array_equal(bits(daa_gen.gemm(e5.astype(np.uint8), e5.T.astype(np.uint8), cfg8, stats=False)),
                          bits(daa_gen.gemm(e5, e5.T.copy(), cfg8, stats=False)))


def test_non_contiguous_inputs_equal_their_contiguous_copies(request):
    a, b = operands(2, 20, 16, 30)
    c, st = daa_gen.gemm(a[::2, ::2], b[::2, 1::2], CFG)
    c2, st2 = daa_gen.gemm(np.ascontiguousarray(a[::2, ::2]), np.ascontiguousarray(b[::2, 1::2]), CFG)
    assert_bits(c2, c, request, "strided views")
    assert st == st2
    c3, _ = daa_gen.gemm(np.asfortranarray(a), np.asfortranarray(b), CFG)
    assert_bits(daa_gen.gemm(a, b, CFG)[0], c3, request, "Fortran order")
    assert np.array_equal(bits(daa_gen.gemm(a.T.T, b, CFG)[0]), bits(daa_gen.gemm(a, b, CFG)[0]))
    x = random_f32(np.random.default_rng(4), (30, 40))
    assert np.array_equal(bits(daa_gen.q(x.T, 3)), bits(daa_gen.q(np.ascontiguousarray(x.T), 3)))
    assert daa_gen.q(x.T, 3).shape == (40, 30)
    # Unaligned data (a view one byte into a buffer) is copied, not read misaligned.
    raw = np.zeros(4 * 12 + 1, np.uint8)
    un = raw[1:].view(np.float32)
    un[:] = x.ravel()[:12]
    assert not un.flags.aligned
    assert np.array_equal(bits(daa_gen.q(un, 2)), bits(daa_gen.q(un.copy(), 2)))


def test_results_own_fresh_memory_and_inputs_are_not_modified():
    a, b = operands(5)
    a0, b0 = a.copy(), b.copy()
    c1 = daa_gen.gemm(a, b, CFG, stats=False)
    c2 = daa_gen.gemm(a, b, CFG, stats=False)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)
    c1[:] = 0
    assert not np.array_equal(c1, c2)
    assert c2.flags.c_contiguous and c2.flags.writeable


def test_gemm_input_errors():
    a, b = operands(6)
    with pytest.raises(TypeError, match=r"A: dtype float64 is not supported.*astype\(np.float32\)"):
        daa_gen.gemm(a.astype(np.float64), b, CFG)
    with pytest.raises(TypeError, match=r"B: dtype int64 .*unsigned"):
        daa_gen.gemm(a, b.astype(np.int64), CFG)
    with pytest.raises(TypeError, match="A: expected a numpy array"):
        daa_gen.gemm(a.tolist(), b, CFG)
    with pytest.raises(ValueError, match=r"A: expected a 2-D array, got 3 dimension\(s\) with shape \[1, 13, 9\]"):
        daa_gen.gemm(a[None], b, CFG)
    with pytest.raises(ValueError, match="A is 13x9 and B is 8x21: the columns of A"):
        daa_gen.gemm(a, b[:8], CFG)
    bad = b.astype(np.uint32)
    bad[2, 3] = 0x1_0000
    with pytest.raises(ValueError, match=r"B: value 0x10000 at flat index 45 does not fit a 16-bit bf16 code"):
        daa_gen.gemm(a, bad, CFG)
    with pytest.raises(TypeError, match="Config"):
        daa_gen.gemm(a, b, "bf16")


def test_empty_dimensions():
    c, st = daa_gen.gemm(np.zeros((3, 0), np.uint32), np.zeros((0, 2), np.uint32), daa_gen.Config())
    assert c.shape == (3, 2) and np.all(bits(c) == 0) and st["steps"] == 0
    c, st = daa_gen.gemm(np.zeros((0, 4), np.uint32), np.zeros((4, 2), np.uint32), daa_gen.Config())
    assert c.shape == (0, 2) and st["products"] == 0


def test_elementwise_scalars_shapes_and_errors():
    assert daa_gen.encode(np.float32(1.5), "bf16") == 0x3FC0
    assert isinstance(daa_gen.encode(np.float32(1.5), "bf16"), np.uint32)
    assert daa_gen.encode(1.5, "bf16") == 0x3FC0
    assert daa_gen.decode(0x3FC0, "bf16") == np.float32(1.5)
    assert isinstance(daa_gen.decode(np.uint16(0x3FC0), "bf16"), np.float32)
    assert daa_gen.mul(1.5, 2.0) == 3.0 and isinstance(daa_gen.mul(1.5, 2.0), np.float32)
    assert daa_gen.add(np.float32(1.0), np.float32(2.0)) == 3.0
    assert daa_gen.q(np.float32(1.75), 1) == 2.0 and daa_gen.q(np.float32(1.75), 1, "toward-zero") == 1.5
    x = np.ones((2, 3, 4), np.float32)
    assert daa_gen.encode(x, "fp16").shape == (2, 3, 4) and daa_gen.encode(x, "fp16").dtype == np.uint32
    with pytest.raises(TypeError, match="not exactly a binary32 value"):
        daa_gen.mul(0.1, 1.0)
    with pytest.raises(TypeError, match="dtype float64"):
        daa_gen.encode(np.ones(3), "bf16")
    with pytest.raises(ValueError, match=r"`format`"):
        daa_gen.encode(x, "fp8")
    with pytest.raises(ValueError, match=r"equal shapes .*x \[2, 3, 4\], y \[3\]"):
        daa_gen.add(x, np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"invalid value '23' for `lo_bits`: allowed 0 ..= 22"):
        daa_gen.q(x, 23)
    with pytest.raises(ValueError, match="`lo_rounding`"):
        daa_gen.q(x, 3, "up")
    with pytest.raises(ValueError, match="codes: value 0x10000 at flat index 1"):
        daa_gen.decode(np.array([1, 0x10000], np.uint32), "fp16")
    with pytest.raises(ValueError, match="not a code"):
        daa_gen.decode(-1, "fp16")


def test_pe_step_forms_and_errors():
    daa = daa_gen.Config(format="bf16")
    single = daa_gen.Config(format="bf16", policy="single")
    one, two = 0x3F80, 0x4000
    acc, high, p_h, p_l = daa_gen.pe_step(np.float32(0.5), one, one, two, two, daa)
    assert (acc, high, p_h, p_l) == (5.5, 1, 4.0, 1.0)
    assert daa_gen.pe_step(np.float32(0.5), one, one, two, two, cfg=daa)[0] == 5.5
    assert daa_gen.pe_step(np.uint32(0x3F000000), one, one, two, two, daa)[0] == 5.5
    assert daa_gen.pe_step(0.5, two, two, cfg=single) == 4.5
    with pytest.raises(TypeError, match=r"policy 'daa' takes pe_step\(acc, a0, b0, a1, b1, cfg\), got 2"):
        daa_gen.pe_step(0.5, one, one, daa)
    with pytest.raises(TypeError, match=r"policy 'single' takes pe_step\(acc, a, b, cfg\)"):
        daa_gen.pe_step(0.5, one, one, two, two, single)
    with pytest.raises(TypeError, match="Config"):
        daa_gen.pe_step(0.5, one, one, two, two)
    with pytest.raises(TypeError, match="ambiguous"):
        daa_gen.pe_step(1, one, one, two, two, daa)
    with pytest.raises(ValueError, match="a1: value 0x10000"):
        daa_gen.pe_step(0.5, one, one, 0x10000, two, daa)
    with pytest.raises(ValueError, match="equal shapes"):
        daa_gen.pe_step(np.zeros(3, np.float32), np.ones(3, np.uint16), np.ones(2, np.uint16), one, two, daa)


def test_gemm_releases_the_gil():
    # Another Python thread keeps counting while a long GEMM runs: it could not if the call held the GIL.
    rng = np.random.default_rng(seed_of("gil"))
    a = rng.standard_normal((384, 384), dtype=np.float32)
    cfg = daa_gen.Config()
    count, stop, started = [0], threading.Event(), threading.Event()

    def counter():
        started.set()
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=counter)
    t.start()
    started.wait()
    before = count[0]
    daa_gen.gemm(a, a, cfg)
    during = count[0] - before
    stop.set()
    t.join()
    assert during > 1000, f"the counting thread advanced {during} times during the GEMM"


def test_threads_compute_the_same_gemms_concurrently():
    jobs = [operands(seed_of("threads", i), 40, 33, 50) for i in range(6)]
    want = [bits(daa_gen.gemm(a, b, CFG, stats=False)) for a, b in jobs]
    got = [None] * len(jobs)

    def run(i):
        got[i] = bits(daa_gen.gemm(*jobs[i], CFG, stats=False))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(w, g) for w, g in zip(want, got))
