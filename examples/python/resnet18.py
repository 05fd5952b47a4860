"""torchvision's resnet18, adapted to 1 x 28 x 28 inputs (a 3x3 stride-2 stem to 14 x 14, no max-pool,
10 classes), on Fashion-MNIST through daa_gen.torch under each policy:
`python examples/python/resnet18.py [--steps N] [--policies ...]`. Every one of its 21
Conv2d/Linear layers goes through the golden model; batch norm stays in PyTorch."""

from torch import nn
from torchvision.models import resnet18

from train_common import arguments, run


def model() -> nn.Module:
    m = resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(1, 64, 3, stride=2, padding=1, bias=False)
    m.maxpool = nn.Identity()
    return m


if __name__ == "__main__":
    run(arguments(__doc__, steps=300, batch=16, test=1000), model)
