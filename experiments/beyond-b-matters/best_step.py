#!/usr/bin/env python3
"""Recompute the study's best-step table from results files with h5py + pandas alone.

    python3 experiments/beyond-b-matters/best_step.py results/beyond/*/results.h5

An independent check of `ggep report --best-step`: for each (problem, method) with several
step sizes (the swept eta_lambda1), the step for the even-indexed images is the one with the
best score on the odd-indexed images and vice versa (2-fold cross-validation over images);
score = mean over m of the mean cosine at m, failed jobs counting 0; ties go to the smaller
step. Cells: mean ± sample std over the reported jobs that finished.

A second table pairs PRFM (at its chosen step) with PPower: both ran on the same data draws,
so their difference per (image, draw) is a paired comparison. Cells: the mean difference,
and a 95% interval over images (the draws of one image averaged first, since they share the
image; Student t with images − 1 degrees of freedom).
"""
import sys

import h5py
import numpy as np
import pandas as pd


def runs(path):
    with h5py.File(path, "r") as f:
        r = f["runs"]
        return pd.DataFrame({k: (r[k].asstr()[()] if h5py.check_string_dtype(r[k].dtype) else r[k][()]) for k in r})


# Student t quantiles t_{0.975, df}, df = 1 … 30 (beyond: the normal 1.96).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def paired(prfm, ppower):
    """PRFM − PPower per m: mean difference and a 95% interval over images."""
    key = ["m", "signal", "trial"]
    both = prfm.set_index(key).cosine.rename("prfm").to_frame().join(ppower.set_index(key).cosine.rename("ppower"), how="inner")
    both["d"] = both.prfm - both.ppower
    per_image = both.d.groupby(["m", "signal"]).mean()
    cells = {}
    for m, d in per_image.groupby("m"):
        n = len(d)
        half = (T975[n - 2] if n - 1 <= len(T975) else 1.96) * d.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
        cells[f"m = {m}"] = f"{d.mean():+.3f} ± {half:.3f}"
    return cells


def score(jobs):
    cos = jobs.cosine.where(jobs.status == "ok", 0.0).fillna(0.0)
    return cos.groupby(jobs.m).mean().mean()


def best(jobs, steps):
    scores = [score(jobs[jobs.eta_lambda1 == s]) for s in steps]
    return steps[int(np.argmax(scores))]  # argmax takes the first, i.e. the smallest, of ties


for path in sys.argv[1:]:
    df = runs(path)
    rows, pairs, picks = [], [], {}
    for (problem, method), jobs in df.groupby(["problem", "algorithm"], sort=False):
        steps = sorted(jobs.eta_lambda1.dropna().unique())
        if len(steps) > 1:
            chosen = [best(jobs[jobs.signal % 2 != k], steps) for k in (0, 1)]
            picked = pd.concat([jobs[(jobs.signal % 2 == k) & (jobs.eta_lambda1 == chosen[k])] for k in (0, 1)])
            label = " / ".join(dict.fromkeys(f"{c:g}" for c in chosen))
        else:
            picked, label = jobs, "–"
        ok = picked[picked.status == "ok"]
        picks[(problem, method)] = ok
        stats = ok.groupby("m").cosine.agg(["mean", "std"])
        cells = {f"m = {m}": f"{s['mean']:.3f} ± {s['std']:.3f}" for m, s in stats.iterrows()}
        rows.append({"problem": problem, "method": method, "η·λ1 chosen": label, **cells})
    print(f"{path}: {len(df)} jobs, {int((df.status == 'failed').sum())} failed")
    print(pd.DataFrame(rows).to_string(index=False))
    print()
    for problem in df.problem.unique():
        if (problem, "PRFM") in picks and (problem, "PPower") in picks:
            pairs.append({"problem": problem, **paired(picks[(problem, "PRFM")], picks[(problem, "PPower")])})
    if pairs:
        print("PRFM − PPower, paired on the same draws (mean, 95% interval over images):")
        print(pd.DataFrame(pairs).to_string(index=False))
        print()
