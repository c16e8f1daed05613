#!/usr/bin/env python3
"""PyTorch reference generators for ggep's import tests, written as safetensors.

For each model: its state dict (`<name>.safetensors`, as `safetensors.torch.save_file` writes
it) and PyTorch's own numbers for fixed inputs (`<name>-reference.safetensors`):
z (4 × k), y = G(z) (4 × n), an upstream gradient g (4 × n) and the input gradient
dz = (∂G/∂z)ᵀ g (4 × k), all computed by PyTorch in float32 in eval mode (stored as F32). The tests compare
ggep's forward and pullback with y and dz, so they need no torch.

    pip install /opt/wheels/torch-*.whl safetensors
    python3 scripts/export-pytorch-fixtures.py            # writes Tests/GGEPTests/Fixtures/pytorch/
    python3 scripts/export-pytorch-fixtures.py --dcgan64 /tmp/dcgan64
        # also the real-size DCGAN (nz = 100, ngf = 64, 14 MB, not committed) and its reference:
        # ggep check-generator configs/examples/dcgan-appE.yaml --set generator.file=/tmp/dcgan64/dcgan64.safetensors \
        #   --set generator.nz=100 --set generator.ngf=64 --reference /tmp/dcgan64/dcgan64-reference.safetensors
"""
import argparse
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "GGEPTests", "Fixtures", "pytorch")


def randomize_batchnorm(module, generator):
    """Non-trivial eval-mode statistics, so that folding is tested."""
    for m in module.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            with torch.no_grad():
                m.weight.copy_(0.5 + torch.rand(m.num_features, generator=generator))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=generator))
                m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=generator))
                m.num_batches_tracked.fill_(7)


class Wrapped(torch.nn.Module):
    """An MLP under `main.` as the PyTorch examples' generators keep theirs."""

    def __init__(self):
        super().__init__()
        self.main = torch.nn.Sequential(
            torch.nn.Linear(6, 40), torch.nn.Tanh(), torch.nn.Linear(40, 64), torch.nn.ReLU(), torch.nn.Linear(64, 81), torch.nn.Tanh())

    def forward(self, z):
        return self.main(z)


class DCGANGenerator(torch.nn.Module):
    """The PyTorch examples' DCGAN generator (examples/dcgan/main.py), nc × 64 × 64."""

    def __init__(self, nz, ngf, nc=3):
        super().__init__()
        self.main = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), torch.nn.BatchNorm2d(ngf * 8), torch.nn.ReLU(True),
            torch.nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(ngf * 4), torch.nn.ReLU(True),
            torch.nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(ngf * 2), torch.nn.ReLU(True),
            torch.nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(ngf), torch.nn.ReLU(True),
            torch.nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), torch.nn.Tanh())

    def forward(self, z):
        # ggep's latent is a flat vector of nz entries: the nz × 1 × 1 input; G(z) flattened C, H, W.
        return self.main(z.view(z.shape[0], -1, 1, 1)).flatten(1)


def calibrate_batchnorm(model, k, generator):
    """Running statistics of the model's own activations for z ~ N(0, I) (as training would
    leave them): with random statistics a random DCGAN maps every z to nearly one image."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(8):
            model(torch.randn(64, k, generator=generator))


class ConvLayer(torch.nn.Module):
    """One ConvTranspose2d [+ BatchNorm2d] + activation on a c × s × s input given flat."""

    def __init__(self, cin, side, *layers):
        super().__init__()
        self.cin, self.side = cin, side
        self.main = torch.nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z.view(z.shape[0], self.cin, self.side, self.side)).flatten(1)


class Mixed(torch.nn.Module):
    """Linear + BatchNorm1d + ReLU, reshaped to 8 × 4 × 4, ConvTranspose2d + BatchNorm2d + ReLU,
    Conv2d + Tanh: 3 × 8 × 8, the Linear → image shape of many GAN generators."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(10, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU(), torch.nn.Unflatten(1, (8, 4, 4)),
            torch.nn.ConvTranspose2d(8, 6, 4, 2, 1), torch.nn.BatchNorm2d(6), torch.nn.ReLU(),
            torch.nn.Conv2d(6, 3, 3, 1, 1), torch.nn.Tanh())

    def forward(self, z):
        return self.net(z).flatten(1)


def export(name, model, k, seed, rows=4, calibrate=False, out=None):
    out = out or OUT
    generator = torch.Generator().manual_seed(seed)
    if calibrate:
        calibrate_batchnorm(model, k, generator)
    else:
        randomize_batchnorm(model, generator)
    model.eval()
    save_file({key: value.contiguous() for key, value in model.state_dict().items()}, os.path.join(out, name + ".safetensors"))
    z = torch.randn(rows, k, generator=generator, requires_grad=True)
    y = model(z)
    g = torch.randn(y.shape, generator=generator)
    (dz,) = torch.autograd.grad(y, z, grad_outputs=g)
    # float32, as PyTorch computed them (the inputs z and g are float32 too).
    reference = {"z": z.detach(), "y": y.detach(), "g": g, "dz": dz}
    save_file(reference, os.path.join(out, name + "-reference.safetensors"))
    print(f"{name}: k = {k}, n = {y.shape[1]}, tensors {list(model.state_dict())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dcgan64", metavar="DIR", help="also write the ngf = 64 DCGAN and its reference into DIR")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    # nn.Sequential: Linear + BatchNorm1d + ReLU, Linear without bias + LeakyReLU(0.2), Linear + Sigmoid.
    mlp = torch.nn.Sequential(
        torch.nn.Linear(8, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
        torch.nn.Linear(32, 48, bias=False), torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(48, 100), torch.nn.Sigmoid())
    export("mlp", mlp, 8, 1)
    export("mlp-main", Wrapped(), 6, 2)
    export("dcgan", DCGANGenerator(nz=16, ngf=8), 16, 3, rows=2, calibrate=True)
    # Single transposed convolutions beyond the DCGAN's (4, 1, 0) and (4, 2, 1): other kernels,
    # strides and paddings, with a bias, with batch norm.
    export("convt-k3s1p1", ConvLayer(3, 6, torch.nn.ConvTranspose2d(3, 5, 3, 1, 1), torch.nn.Sigmoid()), 3 * 6 * 6, 4)
    export("convt-k5s2p2", ConvLayer(4, 5, torch.nn.ConvTranspose2d(4, 2, 5, 2, 2), torch.nn.BatchNorm2d(2), torch.nn.LeakyReLU(0.2)), 4 * 5 * 5, 5)
    export("convt-k4s3p0", ConvLayer(2, 3, torch.nn.ConvTranspose2d(2, 3, 4, 3, 0, bias=False), torch.nn.Tanh()), 2 * 3 * 3, 6)
    # Single convolutions: same-size with a bias, strided with batch norm and no bias, an odd
    # size whose last window does not fit (floor in the output size).
    export("conv-k3s1p1", ConvLayer(3, 6, torch.nn.Conv2d(3, 4, 3, 1, 1), torch.nn.Sigmoid()), 3 * 6 * 6, 7)
    export("conv-k4s2p1", ConvLayer(4, 8, torch.nn.Conv2d(4, 5, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(5), torch.nn.LeakyReLU(0.2)), 4 * 8 * 8, 8)
    export("conv-k3s2p0", ConvLayer(2, 7, torch.nn.Conv2d(2, 3, 3, 2, 0), torch.nn.Tanh()), 2 * 7 * 7, 9)
    export("mixed", Mixed(), 10, 10)
    if args.dcgan64:
        os.makedirs(args.dcgan64, exist_ok=True)
        export("dcgan64", DCGANGenerator(nz=100, ngf=64), 100, 11, rows=3, calibrate=True, out=args.dcgan64)


if __name__ == "__main__":
    main()
