"""daa_gen.torch: every GEMM of DaaLinear / DaaConv2d (forward, grad_input, grad_weight)
equals daa_gen.gemm on the same operands bit for bit, for every policy and three formats;
the `full` fp32 layers match PyTorch's own within float32 rounding; `convert` replaces
only what it should; bad configurations, devices and dtypes are clear errors."""

import os
import pathlib

import numpy as np
import pytest

from conftest import require, seed_of

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:  # pragma: no cover - the requirement below reports it
    torch = None

import daa_gen

POLICIES = ["daa", "static", "full", "single"]
FORMATS = ["fp32", "bf16", "fp16"]


@pytest.fixture(autouse=True)
def _torch():
    require(torch is not None, "torch is not installed (pip install torch)")
    import daa_gen.torch  # noqa: F401  (the module under test imports cleanly)


def bits(t):
    return np.ascontiguousarray(t.detach().numpy()).view(np.uint32)


def expect_same(actual, expected, what):
    """Bit equality with a decoded first mismatch."""
    a, e = bits(actual), np.asarray(expected, dtype=np.float32).view(np.uint32)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    bad = np.argwhere(a != e)
    if len(bad):
        i = tuple(bad[0])
        pytest.fail(
            f"{what}: {len(bad)} of {a.size} results differ; first at {i}: "
            f"expected 0x{int(e[i]):08x} ({e.view(np.float32)[i]!r}), actual 0x{int(a[i]):08x} ({a.view(np.float32)[i]!r})",
            pytrace=False,
        )


def golden(a, b, cfg):
    return np.asarray(daa_gen.gemm(np.ascontiguousarray(a, dtype=np.float32), np.ascontiguousarray(b, dtype=np.float32), cfg, stats=False))


def im2col(x, kh, kw, stride, dilation):
    """Reference im2col in plain numpy loops: (C*kh*kw) x (N*Ho*Wo), channel-major rows,
    batch-major columns (what DaaConv2d feeds its GEMM)."""
    n, c, h, w = x.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    cols = np.zeros((c * kh * kw, n * ho * wo), np.float32)
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                row = (ci * kh + i) * kw + j
                patch = x[:, ci, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]
                cols[row] = patch.reshape(-1)
    return cols, ho, wo


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("policy", POLICIES)
def test_linear_gemms_are_the_golden_gemms(policy, fmt):
    import daa_gen.torch as dt

    torch.manual_seed(seed_of("linear", policy, fmt))
    cfg = daa_gen.Config(format=fmt, policy=policy)
    layer = dt.DaaLinear(9, 5, bias=False, config=cfg)  # bias adds in float32: not a GEMM
    x = torch.randn(2, 3, 9, requires_grad=True)
    y = layer(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    x2, w, dy2 = x.detach().numpy().reshape(6, 9), layer.weight.detach().numpy(), dy.numpy().reshape(6, 5)
    expect_same(y.reshape(6, 5), golden(x2, w.T, cfg), "forward x W^T")
    expect_same(x.grad.reshape(6, 9), golden(dy2, w, cfg), "grad_input dy W")
    expect_same(layer.weight.grad, golden(dy2.T, x2, cfg), "grad_weight dy^T x")
    s = layer.daa_stats
    assert (s.forward.gemms, s.grad_input.gemms, s.grad_weight.gemms) == (1, 1, 1)
    dual = policy != "single"
    assert s.forward.steps == 6 * 5 * (-(-9 // 2) if dual else 9)
    if policy == "daa":
        assert s.forward.high_stream1 > 0 and s.forward.high_stream0 > 0
    if policy in ("daa", "static"):
        assert s.total().reduced_operands > 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("policy", POLICIES)
def test_conv_gemms_are_the_golden_gemms(policy, fmt):
    import daa_gen.torch as dt

    torch.manual_seed(seed_of("conv", policy, fmt))
    cfg = daa_gen.Config(format=fmt, policy=policy)
    layer = dt.DaaConv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2, bias=False, config=cfg)
    x = torch.randn(2, 4, 7, 8)
    y = layer(x)
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    wmat = layer.weight.detach().numpy().reshape(2, 3, 2 * 3 * 2)
    for g in range(2):
        cols, ho, wo = im2col(xp[:, 2 * g : 2 * g + 2], 3, 2, (2, 1), (1, 2))
        want = golden(wmat[g], cols, cfg).reshape(3, 2, ho, wo).transpose(1, 0, 2, 3)
        expect_same(y[:, 3 * g : 3 * g + 3], want, f"forward group {g}")
    # The backward GEMMs, at the GEMM itself (the input gradient's col2im sum is float32).
    rec = dt.LayerStats()
    w = torch.randn(5, 12, requires_grad=True)
    cols = torch.randn(12, 20, requires_grad=True)
    out = dt._Matmul.apply(w, cols, cfg, rec, dt._CONV)
    dout = torch.randn_like(out)
    out.backward(dout)
    expect_same(out, golden(w.detach().numpy(), cols.detach().numpy(), cfg), "conv forward W cols")
    expect_same(w.grad, golden(dout.numpy(), cols.detach().numpy().T, cfg), "conv grad_weight dout cols^T")
    expect_same(cols.grad, golden(w.detach().numpy().T, dout.numpy(), cfg), "conv grad_input W^T dout")
    assert (rec.forward.gemms, rec.grad_input.gemms, rec.grad_weight.gemms) == (1, 1, 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(stride=1, padding=0),
        dict(stride=2, padding=2, dilation=2),
        dict(stride=(1, 2), padding=(1, 0), groups=3),
        dict(padding="same", dilation=(2, 1), padding_mode="reflect"),
        dict(padding="valid", groups=3, bias=False),
        dict(padding=1, padding_mode="circular"),
    ],
)
def test_full_fp32_conv_matches_pytorch_within_rounding(kwargs):
    import daa_gen.torch as dt

    torch.manual_seed(seed_of("conv-ref", repr(kwargs)))
    ref = nn.Conv2d(3, 6, 3, **kwargs)
    layer = dt.DaaConv2d.from_conv(ref, daa_gen.Config(format="fp32", policy="full"))
    x = torch.randn(2, 3, 9, 8, requires_grad=True)
    xr = x.detach().clone().requires_grad_(True)
    y, yr = layer(x), ref(xr)
    dy = torch.randn_like(yr)
    y.backward(dy)
    yr.backward(dy)
    # Both sum the same float32 products in different orders: a few ulps of the sum of |terms|.
    for got, want, what in [(y, yr, "output"), (x.grad, xr.grad, "grad_input"), (layer.weight.grad, ref.weight.grad, "grad_weight")]:
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5, msg=lambda m: f"{what}: {m}")
    if ref.bias is not None:
        torch.testing.assert_close(layer.bias.grad, ref.bias.grad)


def test_full_fp32_linear_matches_pytorch_within_rounding():
    import daa_gen.torch as dt

    torch.manual_seed(3)
    ref = nn.Linear(33, 7)
    layer = dt.DaaLinear.from_linear(ref, daa_gen.Config(format="fp32", policy="full"))
    x = torch.randn(5, 33, requires_grad=True)
    xr = x.detach().clone().requires_grad_(True)
    layer(x).square().sum().backward()
    ref(xr).square().sum().backward()
    torch.testing.assert_close(x.grad, xr.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad, rtol=1e-5, atol=1e-5)


def test_matmul_is_differentiable_and_checks_shapes():
    import daa_gen.torch as dt

    cfg = daa_gen.Config(format="bf16", policy="daa")
    a = torch.randn(4, 6, requires_grad=True)
    b = torch.randn(6, 3, requires_grad=True)
    c = dt.matmul(a, b, cfg)
    expect_same(c, golden(a.detach().numpy(), b.detach().numpy(), cfg), "matmul")
    c.sum().backward()
    assert a.grad is not None and b.grad is not None
    with pytest.raises(ValueError, match="columns of a must equal the rows of b"):
        dt.matmul(a, a, cfg)
    with pytest.raises(ValueError, match="2-D"):
        dt.matmul(a.reshape(2, 2, 6), b, cfg)


def test_convert_replaces_only_linear_and_conv2d():
    import daa_gen.torch as dt

    torch.manual_seed(5)
    relu, bn, pool = nn.ReLU(), nn.BatchNorm2d(4), nn.MaxPool2d(2)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), bn, relu, pool,
        nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=2), nn.ReLU()),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.Conv1d(1, 1, 1),
    )
    lin_w = model[6].weight.detach().clone()
    report = dt.convert(model, daa_gen.Config(format="bf16", policy="daa"), skip=["4.0"])
    assert isinstance(model[0], dt.DaaConv2d) and isinstance(model[6], dt.DaaLinear)
    assert type(model[4][0]) is nn.Conv2d  # skipped by name
    assert model[1] is bn and model[2] is relu and model[3] is pool  # untouched, same objects
    assert type(model[7]) is nn.Conv1d
    assert torch.equal(model[6].weight, lin_w)
    actions = {r.name: r.action for r in report}
    assert actions["0"] == "-> DaaConv2d" and actions["6"] == "-> DaaLinear"
    assert actions["4.0"].startswith("skipped") and actions["7"].startswith("not converted")
    assert "DaaConv2d" in str(report)
    x = torch.randn(2, 1, 8, 8)
    model[:7](x).sum().backward()
    st = dt.stats(model)
    assert set(st) == {"0", "6"}
    assert st["0"].forward.gemms == 1 and st["0"].grad_weight.gemms == 1
    dt.reset_stats(model)
    assert dt.stats(model)["0"].total().gemms == 0


def test_bad_configs_devices_and_dtypes_are_clear_errors():
    import daa_gen.torch as dt

    with pytest.raises(ValueError, match="format"):
        dt.DaaLinear(3, 2, config={"format": "fp33"})
    with pytest.raises(TypeError, match="daa_gen.Config"):
        dt.DaaLinear(3, 2, config="bf16")
    layer = dt.DaaLinear(3, 2, config=daa_gen.Config())
    with pytest.raises(TypeError, match="float32"):
        layer(torch.randn(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="CPU"):
        dt.matmul(torch.randn(2, 3, device="meta"), torch.randn(3, 2, device="meta"), daa_gen.Config())
    conv = dt.DaaConv2d(1, 1, 5, config=daa_gen.Config())
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        conv(torch.randn(1, 1, 3, 3))


EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python"


@pytest.mark.parametrize(
    "script, args, needs",
    [
        ("lenet5.py", ["--steps", "3", "--batch", "8", "--test", "200", "--policies", "native,daa,single", "--format", "bf16"], []),
        ("resnet18.py", ["--steps", "1", "--batch", "2", "--test", "4", "--policies", "daa"], ["torchvision"]),
    ],
)
def test_examples_run_from_a_fresh_clone(script, args, needs):
    """A smoke run of each example (the full runs are in docs/pytorch.md)."""
    import importlib.util
    import subprocess
    import sys

    for module in needs:
        require(importlib.util.find_spec(module) is not None, f"{module} is not installed (pip install {module})")
    data = os.path.join(os.environ.get("DAA_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"), "train-images-idx3-ubyte.gz")
    require(os.path.exists(data), f"{data} is missing (apt-get install dataset-fashion-mnist)")
    p = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    for policy in args[args.index("--policies") + 1].split(","):
        assert f"{policy:>7}: test accuracy" in p.stdout, p.stdout
    if "daa" in args:
        assert "layers through the golden model" in p.stdout



def test_without_statistics_the_bits_are_the_same():
    import daa_gen.torch as dt

    torch.manual_seed(11)
    base = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4))
    x = torch.randn(3, 2, 6, 6)
    grads = []
    for stats in (True, False):
        model = __import__("copy").deepcopy(base)
        dt.convert(model, daa_gen.Config(format="bf16", policy="daa"), stats=stats)
        y = model(x)
        y.square().sum().backward()
        grads.append([y] + [p.grad for p in model.parameters()])
        assert bool(dt.stats(model)) == stats
    for a, b in zip(*grads):
        expect_same(b, bits(a).view(np.float32), "stats=False against stats=True")
