# ggep: the two commands are `make sweep` and `make test`; each sets up what it needs.
SHELL := /bin/bash
SWIFT ?= swift
DEBIAN_PACKAGES := libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev coinor-libclp-dev pkg-config
PYTHON ?= python3
GGEP := .build/release/ggep

.PHONY: all docs deps build python-deps data model model-relu models test test-fast test-python test-faults test-slurm sweep beyond smoke bench clean \
  inversion-random inversion-expansion projectors-in-prfm inversion-mnist priors

all: build

# Installs the Debian packages that are missing (root on this machine kind; sudo elsewhere).
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product ggep

# MNIST into data/mnist/: from $$MNIST_DIR (default ../shared/datasets/mnist) or a download; SHA-256 checked.
data:
	@scripts/fetch-mnist.sh

# Retrains the committed VAE (20 epochs, seed 0, with the schedule it was trained with: 2 gradient
# shards) into models/mnist-vae.h5.
model: build data
	$(GGEP) train-vae --epochs 20 --seed 0 --gradient-shards 2 --data data/mnist --out models/mnist-vae.h5

# Retrains every committed prior (docs/mathematics.md §11), two at a time: the three GAN losses and the kernel
# generator (one thread each), and both VAEs (configs/models/*.yaml). Each config writes its
# model, sample grid and training curve into models/.
GENERATOR_CONFIGS := $(wildcard configs/models/*.yaml)
models: build data
	@mkdir -p .build/model-logs
	@printf '%s\n' $(GENERATOR_CONFIGS) | xargs -P 2 -I{} sh -c 'log=.build/model-logs/$$(basename {} .yaml).log; \
	  $(GGEP) train-generator {} > $$log 2>&1 && tail -1 $$log || { cat $$log; exit 1; }'

# Retrains the committed ReLU VAE (decoder 20-128-392-784, 20 epochs, seed 0) into models/mnist-relu-vae.h5.
model-relu: build data
	$(GGEP) train-vae --architecture mnist-relu --epochs 20 --seed 0 --gradient-shards 2 --data data/mnist --out models/mnist-relu-vae.h5

bench: build
	$(GGEP) bench

# Python readers check that results open with h5py/pandas alone (installed from PyPI if missing).
python-deps:
	@$(PYTHON) -c 'import h5py, pandas' 2>/dev/null || $(PYTHON) -m pip install -q h5py pandas

# The full suite: tests that cannot fail are refused first (scripts/check-tests.py), then every
# XCTest from an optimised build with testing enabled (its own scratch folder, so the release
# binary of `make build` keeps its flags), then the release binary as a user runs it: the smoke
# config read back with h5py, and the fault battery (bad input, a full disk, signals,
# concurrent runs, edited files).
TEST_BUILD := $(SWIFT) build -c release --build-tests -Xswiftc -enable-testing --scratch-path .build-tests
test: deps python-deps data
	$(PYTHON) scripts/check-tests.py
	$(TEST_BUILD)
	$(SWIFT) test -c release --skip-build -Xswiftc -enable-testing --scratch-path .build-tests --disable-swift-testing
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-faults

# The fast tier, for a developer between edits (under 3 minutes once built): the check for tests
# that cannot fail, and every XCTest but the slow end-to-end ones listed in SLOW_TESTS (run by
# `make test`), from the same optimised build.
SLOW_TESTS := ExampleConfigTests|InversionExperimentTests.testSmokeConfigRunsEveryMethodInBothRegimes|JobKeyPinTests|GeneratorTrainingConfigTests|GeneratorTrainingTests|PyTorchGeneratorConfigTests.testTheAppendixE|CLITests.testInterruptedAndKilled|PipelineTests.testLinearSmokeExampleRuns|PipelineTests.testFamiliesSmokeExampleRuns|ReLUVAETests.testReLUVAEFileIsAnInvertibleGenerator|BestStepTests.testStudyConfigsPlan|InversionExperimentTests.testATrainedImageModel|HybridInversionTests
test-fast: deps python-deps data
	$(PYTHON) scripts/check-tests.py
	$(TEST_BUILD)
	$(SWIFT) test -c release --skip-build -Xswiftc -enable-testing --scratch-path .build-tests --disable-swift-testing --skip '$(SLOW_TESTS)'

# End to end through the CLI: run the smoke config, then read it back with h5py + pandas.
test-python: build
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(GGEP) run configs/examples/linear-smoke.yaml --out $$tmp --jobs 2 >/dev/null && \
	$(PYTHON) scripts/read_results.py $$tmp/results.h5 --check

# scripts/fault-battery.sh: every fault case, with exit codes, messages, and the
# results written before each fault checked unchanged.
test-faults: build python-deps data
	scripts/fault-battery.sh

# `ggep submit` / `ggep status` on a real one-node Slurm (scripts/slurm-local.sh, stopped afterwards).
test-slurm: build python-deps
	scripts/test-slurm.sh

# The paper's results: every config under configs/paper/ into results/paper/<name>/, with
# its figures and tables, then results/paper/README.md saying what produced what.
PAPER_CONFIGS ?= configs/paper/fig2-eq24.yaml configs/paper/fig2-eq25.yaml configs/paper/appD-general-B.yaml

sweep: build data
	@start=$$(date +%s); \
	for config in $(PAPER_CONFIGS); do \
	  name=$$(basename $$config .yaml); t0=$$(date +%s); \
	  $(GGEP) run $$config --out results/paper/$$name || exit $$?; \
	  $(GGEP) report results/paper/$$name/results.h5 > /dev/null || exit $$?; \
	  echo "$$name: $$(( $$(date +%s) - t0 )) s"; \
	done; \
	$(GGEP) report results/paper/fig2-eq24/results.h5 results/paper/fig2-eq25/results.h5 --out results/paper \
	  --title "Figure 2: mean cosine similarity against m" > /dev/null || exit $$?; \
	$(GGEP) index results/paper > /dev/null; \
	echo; echo "make sweep: $$(( $$(date +%s) - start )) s after the build. Results:"; \
	for config in $(PAPER_CONFIGS); do \
	  name=$$(basename $$config .yaml); \
	  echo "  results/paper/$$name/  results.h5 summary.md summary.csv table.md figure2.svg figure2.png figure1.png"; \
	done; \
	echo "  results/paper/README.md (what produced each file)"; \
	echo "Figure 2 (both problems): results/paper/figure2.{svg,png}; Figure 1: results/paper/fig2-eq2{4,5}/figure1.png; appendix D: results/paper/appD-general-B/table.md"

# The study beyond the paper (experiments/beyond-b-matters/): each config under configs/beyond/
# into results/beyond/<config>/ with its best-step report, then results/beyond/{figure2,table,steps}
# over the sampled studies present, and results/beyond/README.md. One config alone:
# `make beyond-gfda` (or BEYOND_CONFIGS=...).
BEYOND_CONFIGS ?= configs/beyond/eq24-sigma.yaml configs/beyond/gfda.yaml configs/beyond/gcca.yaml configs/beyond/population.yaml \
  configs/beyond/gcca-iterations.yaml
# The combined figure and tables: the three sampled studies (population and gcca-iterations have their own).
BEYOND_FIGURE := eq24-sigma gfda gcca

beyond: build data
	@start=$$(date +%s); \
	for config in $(BEYOND_CONFIGS); do \
	  name=$$(basename $$config .yaml); t0=$$(date +%s); \
	  $(GGEP) run $$config --out results/beyond/$$name || exit $$?; \
	  $(GGEP) report results/beyond/$$name/results.h5 --best-step > /dev/null || exit $$?; \
	  echo "$$name: $$(( $$(date +%s) - t0 )) s"; \
	done; \
	files=$$(for c in $(BEYOND_FIGURE); do f=results/beyond/$$c/results.h5; [ -f $$f ] && echo $$f; done); \
	if [ -n "$$files" ]; then \
	  $(GGEP) report $$files --best-step --out results/beyond \
	    --title "PRFM vs PPower vs Rifle where B is not I: each method at its best step (cross-validated)" > /dev/null || exit $$?; \
	fi; \
	$(GGEP) index results/beyond > /dev/null; \
	echo; echo "make beyond: $$(( $$(date +%s) - start )) s after the build."; \
	echo "  results/beyond/<config>/  results.h5 summary.md summary.csv table.md steps.md figure2.svg figure2.png figure1.png"; \
	echo "  results/beyond/figure2.{svg,png} table.md steps.md ($(BEYOND_FIGURE), those present), README.md"

beyond-%:
	$(MAKE) --no-print-directory beyond BEYOND_CONFIGS=configs/beyond/$*.yaml

# The inversion studies (experiments/<study>/README.md): every config of
# configs/<study>/ into results/<study>/<config>/ with its report (tables, figures). Jobs that
# fail are results here (a projector that gives G(ẑ) = 0 fails its job): exit 3 goes on.
INVERSION_STUDIES := inversion-random inversion-expansion projectors-in-prfm inversion-mnist priors

$(INVERSION_STUDIES): build
	@start=$$(date +%s); \
	for config in $$(ls configs/$@/*.yaml | grep -v /defaults.yaml); do \
	  name=$$(basename $$config .yaml); t0=$$(date +%s); \
	  $(GGEP) run $$config --out results/$@/$$name; code=$$?; \
	  [ $$code = 0 ] || [ $$code = 3 ] || exit $$code; \
	  $(GGEP) report results/$@/$$name/results.h5 $(if $(filter projectors-in-prfm priors,$@),--best-step,) > /dev/null || exit $$?; \
	  echo "$$name: $$(( $$(date +%s) - t0 )) s"; \
	done; \
	$(GGEP) index results/$@ > /dev/null; \
	echo; echo "make $@: $$(( $$(date +%s) - start )) s after the build. Results: results/$@/<config>/{results.h5,table.md,figure_*.svg,png}"

# The walking skeleton's example, for a quick look at the pipeline.
smoke: build
	$(GGEP) run configs/examples/linear-smoke.yaml
	$(GGEP) summarize results/linear-smoke/results.h5

clean:
	rm -rf .build

# The generated parts of docs/config-reference.md (the components' declared keys);
# ConfigReferenceTests fails while the committed page differs from them.
docs: build
	$(GGEP) config-reference --update docs/config-reference.md
