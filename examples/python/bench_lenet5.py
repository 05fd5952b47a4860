"""LeNet-5 training speed, images/s, in one run on this machine: native PyTorch, the same
model through daa_gen.torch, and `daa train` (the project's own Rust training loop), each
with the same batch, policy and thread count. Usage:
`python examples/python/bench_lenet5.py [--steps 50] [--policy daa] [--daa target/release/daa]`."""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import daa_gen
import daa_gen.torch as dt
from fashion_mnist import load
from lenet5 import lenet5

ROOT = Path(__file__).resolve().parents[2]


def steps_per_second(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, batch: int) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    for s in range(steps):
        idx = slice(s * batch, (s + 1) * batch)
        opt.zero_grad()
        loss_fn(model(x[idx]), y[idx]).backward()
        opt.step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--policy", default="daa")
    p.add_argument("--format", default="fp32")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--daa", default=str(ROOT / "target" / "release" / "daa"), help="the daa command")
    args = p.parse_args()
    x, y = load("train", args.steps * args.batch)
    torch.manual_seed(1)
    base = lenet5()
    rows = []
    torch.set_num_threads(args.threads)
    rows.append(("native PyTorch", steps_per_second(base, x, y, args.steps, args.batch)))
    torch.set_num_threads(1)  # the golden GEMM uses every core (train_common.py explains)
    for stats in (False, True):
        model = lenet5()
        dt.convert(model, daa_gen.Config(format=args.format, policy=args.policy), stats=stats)
        what = "with statistics" if stats else "no statistics"
        rows.append((f"daa_gen.torch, {args.policy}, {what}", steps_per_second(model, x, y, args.steps, args.batch)))
    with tempfile.TemporaryDirectory() as out:
        cmd = [args.daa, "train", "--model", "lenet5", "--policy", args.policy, "--format", args.format,
               "--batch", str(args.batch), "--train-subset", str(args.steps * args.batch), "--test-subset", str(args.batch),
               "--threads", str(args.threads), "--out", out]
        subprocess.run(cmd, check=True, capture_output=True)
        summary = json.loads((Path(out) / "summary.json").read_text())
    rows.append((f"daa train, {args.policy}, no statistics", summary["train_images"] / summary["seconds"]))
    print(f"LeNet-5, {args.steps} steps of {args.batch} images, {args.format}, {args.threads} threads")
    for name, rate in rows:
        print(f"  {name:<42} {rate:8.0f} images/s")
    print(f"  daa_gen.torch / daa train (both without statistics): {rows[1][1] / rows[3][1]:.2f}; daa_gen.torch / native PyTorch: {rows[1][1] / rows[0][1]:.3f}")


if __name__ == "__main__":
    main()
