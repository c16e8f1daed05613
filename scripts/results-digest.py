#!/usr/bin/env python3
"""A results file's numbers as a short digest, to compare runs bit for bit without keeping them.

    python3 scripts/results-digest.py RESULTS.h5 [...]           one JSON line per file
    python3 scripts/results-digest.py --compare DIGESTS.json RESULTS.h5 [...]

The digest of a file: its job count, and SHA-256 over, in job-key order, each job's key with the
bits of every /runs column but wall_time and of every dataset under /jobs/<key>/, for any
experiment kind. Two files with the same digest hold the same jobs with bitwise the same
numbers and columns (wall_time and the file's provenance attributes aside).
`--compare` checks files against digests written earlier (matched by the file's `name`
attribute) and exits 1 on any difference, naming the file.
"""
import hashlib
import json
import sys

import h5py
import numpy as np


# Columns that record when and how long, not what: they differ between identical runs.
UNTIMED = {"wall_time"}


def digest(path):
    """The file's jobs, in job-key order: each job's key, the bits of every /runs column but
    the timing ones (strings as UTF-8, numbers as little-endian), and the bits of every
    dataset under /jobs/<key>/, in name order. Kind-independent: a GEP file and an inversion
    file are digested alike."""
    with h5py.File(path, "r") as f:
        runs = f["runs"]
        keys = runs["job_key"].asstr()[()]
        columns = {}
        for name in sorted(runs):
            if name in UNTIMED:
                continue
            data = runs[name]
            columns[name] = data.asstr()[()] if data.dtype.kind == "O" else data[()]
        h = hashlib.sha256()
        for i in np.argsort(keys, kind="stable"):
            key = keys[i]
            h.update(key.encode())
            for name, values in columns.items():
                h.update(name.encode())
                value = values[i]
                if isinstance(value, str):
                    h.update(value.encode())
                else:
                    h.update(np.asarray(value).astype(np.asarray(value).dtype.newbyteorder("<")).tobytes())
            job = f["jobs"][key] if "jobs" in f and key in f["jobs"] else None
            if job is not None:
                for name in sorted(job):
                    h.update(name.encode())
                    h.update(np.ascontiguousarray(job[name][()]).astype(job[name].dtype.newbyteorder("<")).tobytes())
        return {"name": f.attrs["name"], "jobs": int(len(keys)), "sha256": h.hexdigest(), "blas_core": str(f.attrs.get("blas_core", ""))}


def main(argv):
    if len(argv) > 2 and argv[1] == "--compare":
        with open(argv[2]) as handle:
            expected = {d["name"]: d for d in (json.loads(line) for line in handle if line.strip())}
        bad = 0
        for path in argv[3:]:
            found = digest(path)
            want = expected.get(found["name"])
            if want is None:
                print(f"{path}: no digest for {found['name']}")
                bad += 1
            elif (want["jobs"], want["sha256"]) != (found["jobs"], found["sha256"]):
                print(f"{path}: differs from the digest ({found['jobs']} jobs {found['sha256'][:16]} vs {want['jobs']} jobs {want['sha256'][:16]})")
                bad += 1
            else:
                print(f"{path}: identical ({found['jobs']} jobs, {found['sha256'][:16]})")
        return 1 if bad else 0
    for path in argv[1:]:
        print(json.dumps(digest(path), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
