#!/usr/bin/env python3
"""A results file's numbers as a short digest, to compare runs bit for bit without keeping them.

    python3 scripts/results-digest.py RESULTS.h5 [...]           one JSON line per file
    python3 scripts/results-digest.py --compare DIGESTS.json RESULTS.h5 [...]

The digest of a file: its job count, and SHA-256 over, in job-key order, each job's key with the
bits of its /runs cosine, final_rho and iterations and of its u_hat. Two files with the same
digest hold the same jobs with bitwise the same numbers (wall_time and provenance aside).
`--compare` checks files against digests written earlier (matched by the file's `name`
attribute) and exits 1 on any difference, naming the file.
"""
import hashlib
import json
import sys

import h5py
import numpy as np


def digest(path):
    with h5py.File(path, "r") as f:
        runs = f["runs"]
        keys = runs["job_key"].asstr()[()]
        cosine = runs["cosine"][()]
        rho = runs["final_rho"][()]
        iterations = runs["iterations"][()]
        h = hashlib.sha256()
        for i in np.argsort(keys, kind="stable"):
            key = keys[i]
            h.update(key.encode())
            h.update(np.float64(cosine[i]).tobytes())
            h.update(np.float64(rho[i]).tobytes())
            h.update(np.int64(iterations[i]).tobytes())
            h.update(np.ascontiguousarray(f["jobs"][key]["u_hat"][()], dtype="<f8").tobytes())
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
