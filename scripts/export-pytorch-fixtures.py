#!/usr/bin/env python3
"""PyTorch reference generators for ggep's import tests (issue 15), written as safetensors.

For each model: its state dict (`<name>.safetensors`, as `safetensors.torch.save_file` writes
it) and PyTorch's own numbers for fixed inputs (`<name>-reference.safetensors`, float64):
z (4 × k), y = G(z) (4 × n), an upstream gradient g (4 × n) and the input gradient
dz = (∂G/∂z)ᵀ g (4 × k), all computed by PyTorch in float32 in eval mode. The tests compare
ggep's forward and pullback with y and dz, so they need no torch.

    pip install /opt/wheels/torch-*.whl safetensors
    python3 scripts/export-pytorch-fixtures.py            # writes Tests/GGEPTests/Fixtures/pytorch/
"""
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "GGEPTests", "Fixtures", "pytorch")


def randomize_batchnorm(module, generator):
    """Non-trivial eval-mode statistics, so that folding is tested."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
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


def export(name, model, k, seed):
    generator = torch.Generator().manual_seed(seed)
    randomize_batchnorm(model, generator)
    model.eval()
    save_file({key: value.contiguous() for key, value in model.state_dict().items()}, os.path.join(OUT, name + ".safetensors"))
    z = torch.randn(4, k, generator=generator, requires_grad=True)
    y = model(z)
    g = torch.randn(y.shape, generator=generator)
    (dz,) = torch.autograd.grad(y, z, grad_outputs=g)
    reference = {"z": z.detach().double(), "y": y.detach().double(), "g": g.double(), "dz": dz.double()}
    save_file(reference, os.path.join(OUT, name + "-reference.safetensors"))
    print(f"{name}: k = {k}, n = {y.shape[1]}, tensors {list(model.state_dict())}")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    # nn.Sequential: Linear + BatchNorm1d + ReLU, Linear without bias + LeakyReLU(0.2), Linear + Sigmoid.
    mlp = torch.nn.Sequential(
        torch.nn.Linear(8, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
        torch.nn.Linear(32, 48, bias=False), torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(48, 100), torch.nn.Sigmoid())
    export("mlp", mlp, 8, 1)
    export("mlp-main", Wrapped(), 6, 2)


if __name__ == "__main__":
    main()
