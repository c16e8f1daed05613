#!/usr/bin/env python3
"""Writes data/own-data.h5, an example of a researcher's own data for `problem: {kind: samples}`
(configs/examples/own-data.yaml). Needs numpy, h5py and data/mnist (`make data`).

The truth is MNIST test image 0 (784 pixels, row-major, in [0, 1]): the vae-mnist prior was
trained on such images, so it lies (close to) the generator's range. The samples follow the
spiked model x_i = sqrt(beta) z_i v + w_i around v = truth/|truth| (Â = XᵀX/m, B̂ = I).

    python3 scripts/make-own-data.py [--m 1500] [--beta 2] [--seed 0] [--image 0]
"""
import argparse, gzip, os
import h5py, numpy as np

p = argparse.ArgumentParser()
p.add_argument("--m", type=int, default=1500)
p.add_argument("--beta", type=float, default=2.0)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--image", type=int, default=0)
p.add_argument("--out", default="data/own-data.h5")
args = p.parse_args()

with gzip.open("data/mnist/t10k-images-idx3-ubyte.gz") as f:  # IDX: 16-byte header, then uint8 pixels
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
truth = images[args.image].astype(np.float64) / 255.0
v = truth / np.linalg.norm(truth)

rng = np.random.default_rng(args.seed)
X = np.sqrt(args.beta) * rng.standard_normal((args.m, 1)) * v + rng.standard_normal((args.m, 784))

os.makedirs(os.path.dirname(args.out), exist_ok=True)
with h5py.File(args.out, "w") as f:
    f["X"] = X                # m × n samples (rows), float64
    f["truth"] = truth        # n, not normalised (ggep normalises; its norm is ‖image‖ for oracle-norm)
    f.attrs["description"] = f"spiked samples, beta={args.beta}, m={args.m}, seed={args.seed}, MNIST test image {args.image}"
print(f"wrote {args.out}: X {X.shape}, truth = MNIST test image {args.image}")
