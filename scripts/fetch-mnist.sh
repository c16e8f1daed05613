#!/usr/bin/env bash
# Puts the four MNIST files into data/mnist/ (used by `make data`) and verifies them.
#
#   scripts/fetch-mnist.sh [DEST]          DEST defaults to data/mnist (relative to the package)
#
# Source: $MNIST_DIR (default ../shared/datasets/mnist, relative to the package root) when it
# holds the files; otherwise a download from the public mirrors below, tried in order.
# Verification: SHA-256 of each .gz with `sha256sum -c` against the digests also recorded in
# Sources/01-Core/Data/MNIST.swift. A file that fails that check is still accepted when its
# decompressed content has the known digest (the mirrors' .gz files were compressed with other
# settings than the project's copy, so their .gz bytes differ while the data is the same).
# Anything else is an error, and the bad file is removed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dest="${1:-data/mnist}"
source_dir="${MNIST_DIR:-../shared/datasets/mnist}"
mirrors=(
  "https://ossci-datasets.s3.amazonaws.com/mnist"
  "https://storage.googleapis.com/cvdf-datasets/mnist"
  "http://yann.lecun.com/exdb/mnist"
)

# name, SHA-256 of the .gz, SHA-256 of the decompressed IDX content
files=(
  "train-images-idx3-ubyte.gz 0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971 ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
  "train-labels-idx1-ubyte.gz 1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
  "t10k-images-idx3-ubyte.gz 1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
  "t10k-labels-idx1-ubyte.gz b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
)

mkdir -p "$dest"

fetch() {  # fetch NAME: copy or download into $dest/NAME
  local name="$1"
  if [[ -f "$source_dir/$name" ]]; then
    cp "$source_dir/$name" "$dest/$name.part"
    mv "$dest/$name.part" "$dest/$name"
    echo "copied $name from $source_dir"
    return 0
  fi
  if ! command -v curl >/dev/null; then
    echo "error: $name is not in $source_dir and curl is not installed to download it" >&2
    return 1
  fi
  local mirror
  for mirror in "${mirrors[@]}"; do
    echo "downloading $mirror/$name"
    if curl --fail --location --silent --show-error --connect-timeout 20 --retry 2 \
      --output "$dest/$name.part" "$mirror/$name"; then
      mv "$dest/$name.part" "$dest/$name"
      return 0
    fi
    rm -f "$dest/$name.part"
  done
  echo "error: could not download $name from any mirror (${mirrors[*]});" \
    "put the four MNIST .gz files in a directory and set MNIST_DIR to it" >&2
  return 1
}

content_digest() {  # SHA-256 of a gzip file's decompressed content, or "unreadable"
  if gzip -t "$1" 2>/dev/null; then gzip -dc "$1" | sha256sum | cut -d' ' -f1; else echo unreadable; fi
}

verify() {  # verify NAME GZ_DIGEST CONTENT_DIGEST: prints OK lines; fails quietly otherwise
  local file="$dest/$1"
  [[ -f "$file" ]] || return 1
  if echo "$2  $file" | sha256sum -c --status 2>/dev/null; then
    echo "$file: OK (sha256 $2)"
    return 0
  fi
  if [[ "$(content_digest "$file")" == "$3" ]]; then
    echo "$file: OK (other gzip bytes; decompressed content sha256 $3)"
    return 0
  fi
  return 1
}

status=0
for entry in "${files[@]}"; do
  read -r name gz_digest content_digest <<<"$entry"
  verify "$name" "$gz_digest" "$content_digest" && continue
  fetch "$name" || { status=1; continue; }
  verify "$name" "$gz_digest" "$content_digest" && continue
  echo "error: $dest/$name: SHA-256 mismatch: expected $gz_digest (content $content_digest)," \
    "got $(sha256sum "$dest/$name" | cut -d' ' -f1) (content $(content_digest "$dest/$name")); removed" >&2
  rm -f "$dest/$name"
  status=1
done
exit $status
