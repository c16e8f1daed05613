#!/usr/bin/env python3
"""Small h5py operations for scripts/fault-battery.sh: what a user (or a fault) does to a file.

    h5tool.py opens FILE...                    every file opens and every dataset reads (exit 1 if not)
    h5tool.py attr FILE NAME                   print a root attribute
    h5tool.py set-attr FILE NAME VALUE         set a root string attribute
    h5tool.py edit-cell FILE COLUMN ROW VALUE  change /runs/COLUMN[ROW] in place (a float column)
    h5tool.py column FILE COLUMN               print a /runs column, one value per line
    h5tool.py flip-weights MODEL OUT           copy a model file, 16 bytes of decoder/w1 flipped
    h5tool.py perturb-model MODEL OUT          copy a model file with other weights and a valid checksum
    h5tool.py same-runs A B                    /runs equal (floats bitwise) but wall_time, and u_hat equal
"""
import hashlib
import shutil
import sys

import h5py
import numpy as np


def opens(paths):
    for path in paths:
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: obj[()] if isinstance(obj, h5py.Dataset) else None)
    return 0


def edit_cell(path, column, row, value):
    with h5py.File(path, "r+") as f:
        f["runs"][column][int(row)] = float(value)
    return 0


def flip_weights(model, out):
    """16 bytes of decoder/w1's stored data flipped (an uncompressed, contiguous dataset)."""
    shutil.copyfile(model, out)
    with h5py.File(out, "r") as f:
        offset = f["decoder/w1"].id.get_offset()
    with open(out, "r+b") as handle:
        handle.seek(offset + 4096)
        data = handle.read(16)
        handle.seek(offset + 4096)
        handle.write(bytes(b ^ 0xFF for b in data))
    return 0


def perturb_model(model, out):
    """Other weights with a correct checksum: a model that is valid, just not the same one."""
    shutil.copyfile(model, out)
    with h5py.File(out, "r+") as f:
        f["decoder/b3"][0] += np.float32(0.5)
        order = f.attrs["checksum_order"]
        names = order.split(" of ", 1)[1].split(", ")
        digest = hashlib.sha256()
        for name in names:
            digest.update(np.ascontiguousarray(f[name][()], dtype="<f4").tobytes())
        f.attrs["checksum"] = digest.hexdigest()
    return 0


def runs(f):
    return {name: ds[()] for name, ds in f["runs"].items()}


def same_runs(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        ra, rb = runs(fa), runs(fb)
        if set(ra) != set(rb):
            print("columns differ:", sorted(set(ra) ^ set(rb)))
            return 1
        for name in ra:
            if name == "wall_time":
                continue
            x, y = ra[name], rb[name]
            if x.dtype.kind == "f":
                same = np.array_equal(x.view(np.uint64), y.view(np.uint64))
            else:
                same = list(x) == list(y)
            if not same:
                print("column differs:", name)
                return 1
        for key in ra["job_key"]:
            key = key.decode() if isinstance(key, bytes) else key
            u, v = fa["jobs"][key]["u_hat"][()], fb["jobs"][key]["u_hat"][()]
            if not np.array_equal(u.view(np.uint64), v.view(np.uint64)):
                print("u_hat differs:", key)
                return 1
    return 0


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "opens":
        return opens(args)
    if command == "attr":
        with h5py.File(args[0], "r") as f:
            print(f.attrs[args[1]])
        return 0
    if command == "set-attr":
        with h5py.File(args[0], "r+") as f:
            f.attrs[args[1]] = args[2]
        return 0
    if command == "edit-cell":
        return edit_cell(*args)
    if command == "column":
        with h5py.File(args[0], "r") as f:
            ds = f["runs"][args[1]]
            values = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
            print("\n".join(str(v) for v in values))
        return 0
    if command == "flip-weights":
        return flip_weights(*args)
    if command == "perturb-model":
        return perturb_model(*args)
    if command == "same-runs":
        return same_runs(*args)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
