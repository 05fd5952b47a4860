"""LeNet-5 (the `daa train --model lenet5` network) on Fashion-MNIST, trained through
daa_gen.torch under each policy: `python examples/python/lenet5.py [--steps N] [--policies ...]`."""

from torch import nn

from train_common import arguments, run


def lenet5() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


if __name__ == "__main__":
    run(arguments(__doc__, steps=300, batch=64, test=10000), lenet5)
