#!/usr/bin/env python3
"""Read a ggep results file with h5py and pandas alone (no ggep code).

    python3 scripts/read_results.py results/linear-smoke/results.h5

prints the /runs table's mean cosine per problem, algorithm and m. With --check it also
asserts the layout the README documents, so `make test` proves other tools can read our files.
"""
import json
import sys

import h5py
import pandas as pd


def runs_table(f):
    cols = {}
    for name, ds in f["runs"].items():
        cols[name] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    return pd.DataFrame(cols)


def main(path, check):
    with h5py.File(path, "r") as f:
        df = runs_table(f)
        print(f"{path}: {len(df)} jobs, config {f.attrs['config_file']}, ggep {f.attrs['ggep_version']}")
        ok = df[df.status == "ok"]
        print(ok.groupby(["problem", "algorithm", "m"]).cosine.agg(["mean", "std", "count"]).round(4).to_string())
        if check:
            assert f.attrs["format"] == "ggep-results/1"
            assert len(df) == f.attrs["planned_jobs"], "every planned job has a row"
            assert df.job_key.is_unique
            for key in df.job_key[:5]:
                job = f["jobs"][key]
                params = json.loads(job.attrs["params"])
                assert params["job_key"] == key
                u, v = job["u_hat"][()], job["v_star"][()]
                assert abs(abs(u @ v) - df.set_index("job_key").cosine[key]) < 1e-12, "cosine matches |<u_hat, v_star>|"
                assert len(job["rho_history"]) == df.set_index("job_key").iterations[key] + 1
            yaml_text = f.attrs["resolved_config"]
            assert "sweep" in yaml_text
            print("h5py/pandas check: ok")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 1:
        sys.exit(__doc__)
    main(args[0], "--check" in sys.argv)
