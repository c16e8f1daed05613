#!/usr/bin/env python3
"""Print a paper result's table from its HDF5 file with h5py + pandas alone (no ggep code).

    python3 experiments/read_table.py results/paper/fig2-eq24/results.h5

Rows: method; columns: m; cells: mean ± std of the cosine similarity over images and trials.
"""
import sys

import h5py
import pandas as pd


def runs(path):
    with h5py.File(path, "r") as f:
        r = f["runs"]
        return pd.DataFrame({k: (r[k].asstr()[()] if h5py.check_string_dtype(r[k].dtype) else r[k][()]) for k in r})


for path in sys.argv[1:]:
    df = runs(path)
    ok = df[df.status == "ok"]
    stats = ok.groupby(["problem", "algorithm", "m"], sort=False).cosine.agg(["mean", "std"])
    cells = stats.apply(lambda s: f"{s['mean']:.3f} ± {s['std']:.3f}", axis=1).unstack("m")
    print(f"{path}: {len(ok)} of {len(df)} jobs ok")
    print(cells.to_string())
    print()
