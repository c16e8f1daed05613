# ggep: the two commands are `make sweep` and `make test`; each sets up what it needs.
SHELL := /bin/bash
SWIFT ?= swift
DEBIAN_PACKAGES := libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev pkg-config rsync
PYTHON ?= python3
GGEP := .build/release/ggep
SWEEP_CONFIGS ?= configs/examples/linear-smoke.yaml

.PHONY: all deps build python-deps data model test test-python sweep bench clean

all: build

# Installs the Debian packages that are missing (root on this machine kind; sudo elsewhere).
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product ggep

# MNIST into data/mnist/: from $$MNIST_DIR (default ../shared/datasets/mnist) or a download; SHA-256 checked.
data:
	@scripts/fetch-mnist.sh

# Retrains the committed VAE (20 epochs, seed 0) into models/mnist-vae.h5.
model: build data
	$(GGEP) train-vae --epochs 20 --seed 0 --data data/mnist --out models/mnist-vae.h5

bench: build
	$(GGEP) bench

# Python readers check that results open with h5py/pandas alone (installed from PyPI if missing).
python-deps:
	@$(PYTHON) -c 'import h5py, pandas' 2>/dev/null || $(PYTHON) -m pip install -q h5py pandas

test: deps python-deps data
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing
	$(MAKE) --no-print-directory test-python

# End to end through the CLI: run the smoke config, then read it back with h5py + pandas.
test-python: build
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(GGEP) run configs/examples/linear-smoke.yaml --out $$tmp --jobs 2 >/dev/null && \
	$(PYTHON) scripts/read_results.py $$tmp/results.h5 --check

sweep: build python-deps data
	@for config in $(SWEEP_CONFIGS); do \
	  name=$$(basename $$config .yaml); \
	  start=$$(date +%s); \
	  $(GGEP) run $$config --out results/$$name || exit $$?; \
	  $(GGEP) summarize results/$$name/results.h5 > results/$$name/summary.md; \
	  $(GGEP) summarize results/$$name/results.h5 --format csv > results/$$name/summary.csv; \
	  echo "$$name: $$(( $$(date +%s) - start )) s -> results/$$name/{results.h5,summary.md,summary.csv}"; \
	done

clean:
	rm -rf .build
