#!/usr/bin/env python3
"""Peer check of the training stack: LeNet-5 on Fashion-MNIST in PyTorch, set up as
`daa train --model lenet5 --policy native`, so that its test accuracy can be compared with
ours over several seeds (docs/training.md, "Peer check").

Same as `daa train --policy native`: the network (conv 5x5 6 pad 2, ReLU, 2x2 max-pool,
conv 5x5 16, ReLU, max-pool, 400-120-84-10 with ReLU), He-normal weights N(0, 2/fan_in)
and zero biases, pixels (x/255 - 0.2860)/0.3530, SGD with momentum 0.9 and weight decay
5e-4 on weights only (PyTorch's SGD has our update form: v = mu v + g + wd w, w -= lr v),
the learning rate set at every step to lr/2 (1 + cos(pi step/total)), mini-batches of 64
with the last partial batch kept, a fresh shuffle each epoch, the first N training images,
all 10,000 test images, mean cross-entropy, binary32.
Not the same: the random draws. The initial weights and the data order come from
PyTorch's generator seeded with the seed, not from our ChaCha8 streams, so seed S here and
seed S there are different samples of the same distribution; the check compares means
over seeds against the seed-to-seed spread.

Usage: peer_lenet5.py [--epochs E] [--train-subset N] [--seeds 1,2,3] [--threads T]
                      [--data DIR] [--json FILE]
Needs torch (CPU); reads the Debian IDX files, no download.
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    """An IDX file (gzip) as a uint8 tensor; a malformed file is an error naming it."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    body = torch.frombuffer(bytearray(data[4 + 4 * dims :]), dtype=torch.uint8)
    if body.numel() != math.prod(shape):
        sys.exit(f"{path}: {body.numel()} values, the header says {shape}")
    return body.reshape(shape)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = (x.float() / 255.0 - MEAN) / STD
    return x.unsqueeze(1), y.long()


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)
        for m in [self.c1, self.c2, self.f1, self.f2, self.f3]:
            fan_in = m.weight[0].numel()
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_in))
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


def run(seed, epochs, n_train, batch, lr, train, test):
    torch.manual_seed(seed)
    net = LeNet5()
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
    opt = torch.optim.SGD(
        [{"params": weights, "weight_decay": 5e-4}, {"params": biases, "weight_decay": 0.0}],
        lr=lr,
        momentum=0.9,
    )
    xs, ys = train[0][:n_train], train[1][:n_train]
    steps_per_epoch = math.ceil(n_train / batch)
    total = steps_per_epoch * epochs
    curve = []
    t0 = time.time()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(n_train)
        for s in range(steps_per_epoch):
            step = epoch * steps_per_epoch + s
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * step / total))
            idx = order[s * batch : (s + 1) * batch]
            loss = F.cross_entropy(net(xs[idx]), ys[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        curve.append(evaluate(net, test))
    seconds = time.time() - t0
    return {
        "seed": seed,
        "epochs": epochs,
        "train_images": n_train,
        "test_images": len(test[1]),
        "test_accuracy": curve[-1],
        "per_epoch_test_accuracy": curve,
        "seconds": seconds,
        "images_per_second": n_train * epochs / seconds,
    }


@torch.no_grad()
def evaluate(net, test):
    net.eval()
    correct = 0
    for i in range(0, len(test[1]), 256):
        correct += (net(test[0][i : i + 256]).argmax(1) == test[1][i : i + 256]).sum().item()
    return correct / len(test[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train-subset", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    if a.epochs < 1 or not 1 <= a.train_subset <= 60000 or not 1 <= a.batch <= 4096:
        sys.exit("epochs >= 1, 1 <= train-subset <= 60000 and 1 <= batch <= 4096 are allowed")
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
    except ValueError:
        sys.exit(f"invalid value '{a.seeds}' for --seeds: allowed a comma-separated list of integers")
    torch.set_num_threads(a.threads)
    train, test = load(a.data, "train"), load(a.data, "test")
    results = []
    for seed in seeds:
        r = run(seed, a.epochs, a.train_subset, a.batch, a.lr, train, test)
        results.append(r)
        print(
            f"seed {seed}: test accuracy {100 * r['test_accuracy']:.2f} % after {a.epochs} epoch(s) "
            f"on {a.train_subset} images, {r['seconds']:.1f} s, {r['images_per_second']:.0f} images/s",
            flush=True,
        )
    accs = [r["test_accuracy"] for r in results]
    mean = sum(accs) / len(accs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in accs) / (len(accs) - 1)) if len(accs) > 1 else float("nan")
    print(f"mean {100 * mean:.2f} %, standard deviation {100 * sd:.2f} pp over {len(accs)} seed(s); torch {torch.__version__}")
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump({"torch": torch.__version__, "threads": a.threads, "runs": results}, f, indent=1)
        os.replace(a.json + ".tmp", a.json)


if __name__ == "__main__":
    main()
