"""The loop both examples share: SGD with momentum and weight decay on a cosine schedule (the
settings `daa train` uses), a fixed number of steps, then test accuracy, for each policy."""

from __future__ import annotations

import argparse
import copy
import math
import time

import torch
from torch import nn

import daa_gen
import daa_gen.torch as dt
from fashion_mnist import load


def arguments(description: str, steps: int, batch: int, test: int) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--policies", default="daa,single", help="comma-separated: native (plain PyTorch), daa, static, full, single")
    p.add_argument("--format", default="fp32", help="F_in: fp32, tf32, bf16, fp16 or eXmY")
    p.add_argument("--lo-bits", type=int, default=None, help="low-path fraction bits L (default: the format's)")
    p.add_argument("--steps", type=int, default=steps, help=f"training steps (default {steps})")
    p.add_argument("--batch", type=int, default=batch, help=f"mini-batch (default {batch})")
    p.add_argument("--test", type=int, default=test, help=f"test images (default {test}; 10000 = all)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="threads of native PyTorch runs (golden-model runs: the GEMMs use every core, PyTorch one thread)")
    return p.parse_args()


def run(args: argparse.Namespace, build) -> None:
    x_train, y_train = load("train")
    x_test, y_test = load("t10k", args.test)
    torch.manual_seed(args.seed)
    base = build()
    print(f"{args.steps} steps of {args.batch} images, {len(x_test)} test images, format {args.format}, seed {args.seed}, {args.threads} threads")
    for policy in args.policies.split(","):
        model = copy.deepcopy(base)
        if policy != "native":
            cfg = daa_gen.Config(format=args.format, policy=policy, lo_bits=args.lo_bits)
            report = dt.convert(model, cfg)
            replaced = sum(r.action.startswith("->") for r in report)
        else:
            replaced = 0
        # The golden GEMM runs on its own thread pool (rayon, every core); PyTorch's OpenMP pool
        # competing for the same cores made its small ops between GEMMs up to 100x slower
        # (docs/pytorch.md), so PyTorch gets one thread whenever the golden model does the GEMMs.
        torch.set_num_threads(args.threads if policy == "native" else 1)
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / args.steps)))
        order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(args.seed))
        loss_fn = nn.CrossEntropyLoss()
        model.train()
        start = time.perf_counter()
        for step in range(args.steps):
            at = (step * args.batch) % (len(order) - args.batch + 1)
            idx = order[at : at + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            sched.step()
        train_s = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(x_test[i : i + 500]).argmax(1) == y_test[i : i + 500]).sum()) for i in range(0, len(x_test), 500))
        stats = dt.stats(model)
        share = ""
        if stats:
            tot = [s.total() for s in stats.values()]
            decided = sum(t.high_stream0 + t.high_stream1 for t in tot)
            if decided and policy in ("daa", "static"):
                share = f", stream 1 on the full multiplier in {sum(t.high_stream1 for t in tot) / decided:.1%} of steps"
        print(
            f"{policy:>7}: test accuracy {100 * correct / len(x_test):.2f} %, last loss {loss.item():.4f}, "
            f"{train_s:.1f} s ({args.steps * args.batch / train_s:.0f} images/s), {replaced} layers through the golden model{share}"
        )
