#!/usr/bin/env python3
"""Pivot tables of an inversion results file, from HDF5 alone (h5py, numpy, pandas).

Re-derives what `ggep report` puts in table.md — median latent SNR (numpy's percentile, the
same interpolation ggep uses), success rate, median seconds per inversion — as one row per
value of the swept column and one column per method, in markdown.

    python3 experiments/inversion_table.py results/inversion-random/random/results.h5 [--axis n_hidden1]
"""
import argparse

import h5py
import numpy as np
import pandas as pd

ORDER = ["adam", "hybrid", "latent-pursuit", "latent-pursuit-debiased", "layered-bp", "lp", "lp-noiseless", "oracle"]
AXES = ["k", "expansion", "n_hidden1", "n", "noise_snr_db", "noise_sigma", "mask_fraction", "hidden_rows"]


def load(path):
    with h5py.File(path, "r") as f:
        runs = f["runs"]
        frame = {}
        for name in runs:
            values = runs[name][()]
            if values.dtype.kind in "SO":
                values = [v.decode() if isinstance(v, bytes) else v for v in values]
            frame[name] = values
    return pd.DataFrame(frame)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--axis", help="the swept column (default: the first of %s that varies)" % AXES)
    args = parser.parse_args()
    runs = load(args.results)
    axis = args.axis or next((a for a in AXES if a in runs and runs[a].nunique(dropna=False) > 1), None)
    if axis is None:
        runs["point"] = "all"
        axis = "point"
    # A method that ran with several settings (a swept support_threshold) is one line per
    # setting, labelled as ggep's table labels it: `latent-pursuit (support_threshold: 0.001)`.
    def residue(value):
        value = value.strip()
        if not (value.startswith("{") and value.endswith("}")):
            return ""
        return ", ".join(e.strip() for e in value[1:-1].split(",") if not e.strip().startswith("kind:"))
    if "sweep.method" in runs:
        runs["residue"] = runs["sweep.method"].map(residue)
        several = runs.groupby("method")["residue"].nunique()
        runs["method"] = [f"{m} ({r})" if several[m] > 1 and r else m for m, r in zip(runs["method"], runs["residue"])]
    # A failed job counts as −∞ dB (as in ggep's table) and as a failure.
    runs["snr"] = np.where(runs["status"] == "ok", runs["snr_latent_db"], -np.inf)
    runs["ok_success"] = (runs["status"] == "ok") & (runs["success"] == 1)
    seen = list(dict.fromkeys(runs["method"]))
    rank = lambda label: ORDER.index(label.split(" ")[0]) if label.split(" ")[0] in ORDER else len(ORDER)
    methods = sorted(seen, key=lambda label: (rank(label), seen.index(label)))
    groups = runs.groupby([axis, "method"])
    median = groups["snr"].apply(lambda s: np.percentile(s, 50)).unstack()[methods]
    success = groups["ok_success"].mean().unstack()[methods]
    seconds = groups["wall_time"].median().unstack()[methods]
    def show(title, table, fmt):
        print(f"**{title}**\n")
        print("| " + axis + " | " + " | ".join(methods) + " |")
        print("|" + "---|" * (len(methods) + 1))
        for value, row in table.iterrows():
            label = f"{value:g}" if isinstance(value, (int, float, np.integer, np.floating)) else str(value)
            print("| " + label + " | " + " | ".join(fmt(row[m]) for m in methods) + " |")
        print()
    show("Median latent SNR (dB)", median, lambda v: f"{v:.1f}")
    show("Success rate (latent SNR ≥ 40 dB)", success, lambda v: f"{100 * v:.0f}%")
    show("Median seconds per inversion", seconds, lambda v: f"{v:.3g}")


if __name__ == "__main__":
    main()
