"""Train any PyTorch model through the per-MAC golden model: every GEMM of `nn.Linear` and
`nn.Conv2d` — forward, backward-data and backward-weight — runs through `daa_gen.gemm`.

What is modelled (docs/pytorch.md): each GEMM's operands are rounded to the configuration's
input format F_in with round-to-nearest-even (as `daa train` does), and every output element
is the array's fold: binary32 accumulation from +0 in k order, the policy's PE steps (the
DAA controller, the low-precision multiplier with its operand reduction), DAZ/FTZ and the
canonical NaN — bit for bit what `daa gemm` and the generated Verilog compute. Everything
else (bias, activations, normalisation, pooling, the loss, the optimiser, the col2im sum of
a convolution's input gradient) stays in PyTorch's float32.

    import daa_gen, daa_gen.torch as dt
    cfg = daa_gen.Config(format="bf16", policy="daa")
    report = dt.convert(model, cfg)          # in place; lists what it replaced
    ...train as usual...
    dt.stats(model)                          # controller decisions per layer and GEMM

CPU float32 tensors only; `gemm` releases the GIL and uses every core (rayon).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import Config, gemm

__all__ = [
    "GemmStats",
    "LayerStats",
    "matmul",
    "DaaLinear",
    "DaaConv2d",
    "convert",
    "stats",
    "reset_stats",
]

_FIELDS = ("steps", "high_stream0", "high_stream1", "products", "zero_products", "reduced_operands", "reductions_changed")


@dataclass
class GemmStats:
    """Sums of `daa_gen.gemm`'s statistics over the GEMMs of one kind."""

    gemms: int = 0
    steps: int = 0
    high_stream0: int = 0
    high_stream1: int = 0
    products: int = 0
    zero_products: int = 0
    reduced_operands: int = 0
    reductions_changed: int = 0

    def add(self, s: dict) -> None:
        self.gemms += 1
        for f in _FIELDS:
            setattr(self, f, getattr(self, f) + int(s[f]))

    @property
    def high_stream1_share(self) -> float:
        """Share of dual-stream PE steps whose full multiplier went to stream 1."""
        decided = self.high_stream0 + self.high_stream1
        return self.high_stream1 / decided if decided else 0.0

    @property
    def reductions_changed_share(self) -> float:
        """Share of low-path operands that the reduction q changed."""
        return self.reductions_changed / self.reduced_operands if self.reduced_operands else 0.0


@dataclass
class LayerStats:
    """A layer's statistics per GEMM: forward, grad_input (backward-data), grad_weight."""

    forward: GemmStats = field(default_factory=GemmStats)
    grad_input: GemmStats = field(default_factory=GemmStats)
    grad_weight: GemmStats = field(default_factory=GemmStats)

    def total(self) -> GemmStats:
        t = GemmStats()
        for part in (self.forward, self.grad_input, self.grad_weight):
            t.gemms += part.gemms
            for f in _FIELDS:
                setattr(t, f, getattr(t, f) + getattr(part, f))
        return t


def _config(cfg) -> Config:
    if isinstance(cfg, Config):
        return cfg
    if isinstance(cfg, dict):
        return Config(**cfg)
    raise TypeError(f"config: expected a daa_gen.Config or a dict of its settings, got {type(cfg).__name__}")


def _check(t: torch.Tensor, what: str) -> None:
    if t.device.type != "cpu":
        raise ValueError(f"{what}: daa_gen.torch computes on the CPU; got a tensor on {t.device} (move the model and data with .cpu())")
    if t.dtype != torch.float32:
        raise TypeError(f"{what}: daa_gen.torch takes float32 tensors; got {t.dtype} (use .float())")


def _gemm(a: torch.Tensor, b: torch.Tensor, cfg: Config, record: GemmStats | None) -> torch.Tensor:
    """C = A x B through the golden model; A and B are rounded to F_in inside `gemm`."""
    an = a.detach().numpy()
    bn = b.detach().numpy()
    if record is None:
        c = gemm(an, bn, cfg, stats=False)
    else:
        c, s = gemm(an, bn, cfg)
        record.add(s)
    return torch.from_numpy(np.asarray(c))


class _Matmul(torch.autograd.Function):
    """A (M x K) @ B (K x N) with all three GEMMs through the golden model: forward C = A B,
    dA = dC B^T, dB = A^T dC. `kinds` names the LayerStats field of dA and of dB. The golden
    GEMM is symmetric in its operands (the key, the products and q treat A and B alike), so
    computing dW^T as A^T dC instead of dC^T A, as `daa train` does, gives the same bits."""

    @staticmethod
    def forward(ctx, a, b, cfg, record, kinds):  # type: ignore[override]
        ctx.save_for_backward(a, b)
        ctx.cfg, ctx.record, ctx.kinds = cfg, record, kinds
        return _gemm(a, b, cfg, record.forward if record else None)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        a, b = ctx.saved_tensors
        rec, (kind_a, kind_b) = ctx.record, ctx.kinds
        grad = grad.contiguous()
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _gemm(grad, b.t(), ctx.cfg, getattr(rec, kind_a) if rec else None)
        if ctx.needs_input_grad[1]:
            gb = _gemm(a.t(), grad, ctx.cfg, getattr(rec, kind_b) if rec else None)
        return ga, gb, None, None, None


def matmul(a: torch.Tensor, b: torch.Tensor, cfg, record: LayerStats | None = None) -> torch.Tensor:
    """`a @ b` for 2-D float32 CPU tensors, differentiable, with the forward GEMM and both
    backward GEMMs (dA = dC B^T, dB = A^T dC) through `daa_gen.gemm` under `cfg`.
    `record` (a LayerStats) collects the statistics: `forward` for C, `grad_input` for dA,
    `grad_weight` for dB."""
    cfg = _config(cfg)
    for t, what in ((a, "a"), (b, "b")):
        _check(t, what)
        if t.dim() != 2:
            raise ValueError(f"{what}: matmul takes 2-D tensors; got shape {tuple(t.shape)}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"a is {tuple(a.shape)} and b is {tuple(b.shape)}: the columns of a must equal the rows of b")
    return _Matmul.apply(a, b, cfg, record, ("grad_input", "grad_weight"))


# Which LayerStats field the gradient of each operand counts in.
_LINEAR = ("grad_input", "grad_weight")  # x @ W^T
_CONV = ("grad_weight", "grad_input")  # W @ cols


def _take_parameters(new: nn.Module, old: nn.Module) -> nn.Module:
    """`new` with `old`'s weight, bias and training mode."""
    with torch.no_grad():
        new.weight.copy_(old.weight)
        if old.bias is not None:
            new.bias.copy_(old.bias)
    return new.train(old.training)


class DaaLinear(nn.Linear):
    """`nn.Linear` whose three GEMMs run through the golden model: y = x W^T (+ bias in
    float32); grad_input = dy W; grad_weight = dy^T x (computed as x^T dy, the same bits)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, config, stats: bool = True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.daa_config = _config(config)
        self.daa_stats = LayerStats() if stats else None

    @classmethod
    def from_linear(cls, m: nn.Linear, config, stats: bool = True) -> "DaaLinear":
        new = cls(m.in_features, m.out_features, m.bias is not None, config=config, stats=stats, device=m.weight.device, dtype=m.weight.dtype)
        return _take_parameters(new, m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check(x, "DaaLinear input")
        _check(self.weight, "DaaLinear weight")
        lead = x.shape[:-1]
        y = _Matmul.apply(x.reshape(-1, self.in_features), self.weight.t(), self.daa_config, self.daa_stats, _LINEAR)
        y = y.reshape(*lead, self.out_features)
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, config={self.daa_config!r}"


class DaaConv2d(nn.Conv2d):
    """`nn.Conv2d` (any stride, padding — numbers, 'same', 'valid' — padding mode, dilation
    and groups) by im2col (`F.unfold`): per group, out = W (O/G x C/G*kh*kw) @ cols, with all
    three GEMMs through the golden model. Bias, padding and the col2im sum of the input
    gradient (unfold's backward) stay in float32."""

    def __init__(self, *args, config, stats: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.daa_config = _config(config)
        self.daa_stats = LayerStats() if stats else None

    @classmethod
    def from_conv(cls, m: nn.Conv2d, config, stats: bool = True) -> "DaaConv2d":
        new = cls(
            m.in_channels,
            m.out_channels,
            m.kernel_size,
            stride=m.stride,
            padding=m.padding,
            dilation=m.dilation,
            groups=m.groups,
            bias=m.bias is not None,
            padding_mode=m.padding_mode,
            device=m.weight.device,
            dtype=m.weight.dtype,
            config=config,
            stats=stats,
        )
        return _take_parameters(new, m)

    def _pads(self) -> tuple[int, int, int, int]:
        """(left, right, top, bottom) zero or mode padding, as nn.Conv2d applies it."""
        kh, kw = self.kernel_size
        dh, dw = self.dilation
        if isinstance(self.padding, str):
            if self.padding == "valid":
                return (0, 0, 0, 0)
            # 'same' (stride 1, which nn.Conv2d enforces): the extra pixel goes right/bottom.
            th, tw = dh * (kh - 1), dw * (kw - 1)
            return (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        ph, pw = self.padding
        return (pw, pw, ph, ph)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check(x, "DaaConv2d input")
        _check(self.weight, "DaaConv2d weight")
        batched = x.dim() == 4
        if not batched:
            if x.dim() != 3:
                raise ValueError(f"DaaConv2d input: expected (N, C, H, W) or (C, H, W); got shape {tuple(x.shape)}")
            x = x.unsqueeze(0)
        pads = self._pads()
        if any(pads):
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            x = F.pad(x, pads, mode=mode)
        n, _, h, w = x.shape
        kh, kw = self.kernel_size
        (sh, sw), (dh, dw) = self.stride, self.dilation
        ho = (h - dh * (kh - 1) - 1) // sh + 1
        wo = (w - dw * (kw - 1) - 1) // sw + 1
        if ho <= 0 or wo <= 0:
            raise ValueError(f"DaaConv2d input: {h}x{w} after padding is smaller than the dilated kernel")
        cols = F.unfold(x, self.kernel_size, dilation=self.dilation, stride=self.stride)  # N x CKK x L
        g = self.groups
        ckk = cols.shape[1] // g
        og = self.out_channels // g
        # CKK x (N*L) per group, N major: the layout daa train uses.
        cols = cols.transpose(0, 1).reshape(g, ckk, n * ho * wo)
        wmat = self.weight.reshape(g, og, ckk)
        outs = [_Matmul.apply(wmat[i], cols[i], self.daa_config, self.daa_stats, _CONV) for i in range(g)]
        out = torch.cat(outs, 0) if g > 1 else outs[0]  # O x (N*L)
        out = out.reshape(self.out_channels, n, ho, wo).transpose(0, 1)
        if self.bias is not None:
            out = out + self.bias.reshape(1, -1, 1, 1)
        return out if batched else out.squeeze(0)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, config={self.daa_config!r}"


@dataclass
class Replaced:
    """One layer `convert` replaced or left alone."""

    name: str
    kind: str
    action: str


class ConvertReport(list):
    """What `convert` did, one `Replaced` per layer it looked at; prints as a table."""

    def __str__(self) -> str:
        if not self:
            return "daa_gen.torch.convert: no nn.Linear or nn.Conv2d found"
        width = max(len(r.name) for r in self)
        return "\n".join(f"{r.name:<{width}}  {r.kind:<10}  {r.action}" for r in self)


def convert(model: nn.Module, config, *, skip: Iterable[str] = (), stats: bool = True) -> ConvertReport:
    """Replaces, in place, every `nn.Linear` and `nn.Conv2d` of `model` (exact types; its
    weights and bias kept) by `DaaLinear` / `DaaConv2d` under `config`, except the layers
    named in `skip` (qualified names as in `model.named_modules()`). `stats=False` keeps no
    statistics and runs the statistics-free GEMM kernel (the same bits, faster). Returns the report;
    subclasses of these layers and other convolutions (Conv1d/3d, transposed) are listed
    as not converted, with the reason."""
    cfg = _config(config)
    skip = set(skip)
    report = ConvertReport()
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            name = f"{parent_name}.{child_name}" if parent_name else child_name
            kind = type(child).__name__
            if name in skip:
                report.append(Replaced(name, kind, "skipped (asked)"))
            elif type(child) is nn.Linear:
                setattr(parent, child_name, DaaLinear.from_linear(child, cfg, stats))
                report.append(Replaced(name, kind, "-> DaaLinear"))
            elif type(child) is nn.Conv2d:
                setattr(parent, child_name, DaaConv2d.from_conv(child, cfg, stats))
                report.append(Replaced(name, kind, "-> DaaConv2d"))
            elif isinstance(child, (nn.Linear, nn.Conv2d)) and not isinstance(child, (DaaLinear, DaaConv2d)):
                report.append(Replaced(name, kind, "not converted: a subclass whose forward may not be a plain GEMM"))
            elif isinstance(child, (nn.Conv1d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Bilinear)):
                report.append(Replaced(name, kind, "not converted: only nn.Linear and nn.Conv2d are supported"))
    return report


def stats(model: nn.Module) -> dict[str, LayerStats]:
    """Statistics of every DaaLinear/DaaConv2d of `model` since creation or `reset_stats`,
    by qualified name."""
    return {
        name: m.daa_stats
        for name, m in model.named_modules()
        if isinstance(m, (DaaLinear, DaaConv2d)) and m.daa_stats is not None
    }


def reset_stats(model: nn.Module) -> None:
    """Zeroes the statistics of every DaaLinear/DaaConv2d of `model`."""
    for m in model.modules():
        if isinstance(m, (DaaLinear, DaaConv2d)):
            if m.daa_stats is not None:
                m.daa_stats = LayerStats()
