# The README's two commands are `make run` and `make test`; both set up what is
# missing first (scripts/setup.sh), so they work on a fresh Debian 12 machine.

SHELL := /bin/bash
# Tests and CI read the datasets from the shared copy beside the repository
# when there is one (lib/data otherwise looks in its usual places).
SHARED_DATA := $(abspath $(CURDIR)/../shared/data)
export HW1_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/regression/train_data.csv),$(SHARED_DATA))
PY := .venv/bin/python
# Go's SIMD package for every build and test: the pure-Go backend's matrix
# products use AVX2/AVX-512 with it (scripts/lib.sh says the same for the set-up).
export GOEXPERIMENT ?= simd
# Seconds one notebook cell may run: the quick preset trains for minutes.
RUN_CELL_TIMEOUT ?= 3600

.PHONY: all setup run test vet unit-test examples-test notebooks-test browser-test doctor lab dashboard gallery bench bench-quick bench-hpo clean

all: test

## setup: install what is missing (apt dataset, venv with the XLA plugin, notebook tools) and build bin/hw1
setup:
	@scripts/setup.sh

## run: set up, then run both homework notebooks headless with the quick preset
run: setup
	@HW1_PRESET=$${HW1_PRESET:-quick} HW1_OUT=$(CURDIR)/out $(PY) scripts/check_notebooks.py \
		--timeout $(RUN_CELL_TIMEOUT) --progress --summary --export out/notebooks

## test: set up, then pass every test (CI runs this)
test: setup vet unit-test examples-test notebooks-test browser-test

# The packages that need no GoMLX must build for Windows and macOS too (lib/hpo's journal
# locks are per platform: lock_unix.go, lock_windows.go).
PORTABLE_PKGS := ./lib/hpo/... ./lib/data/... ./lib/plot/...
vet:
	go vet ./...
	@# Test helpers stay out of programs: nothing hw1 links imports package testing.
	@if go list -deps ./cmd/hw1 | grep -qx testing; then echo "cmd/hw1 links package testing (go list -deps ./cmd/hw1)" >&2; exit 1; fi
	GOOS=windows go vet $(PORTABLE_PKGS)
	GOOS=darwin go vet $(PORTABLE_PKGS)
	$(PY) scripts/check_notebooks.py --check-clean

# HW1_REQUIRE_*: a missing XLA plugin, dataset, PostgreSQL server binary or Optuna fails the
# tests instead of skipping them (the set-up installs all four).
unit-test:
	HW1_REQUIRE_XLA=1 HW1_REQUIRE_DATA=1 HW1_REQUIRE_POSTGRES=1 HW1_REQUIRE_OPTUNA=1 go test -count=1 -timeout 30m ./...

## examples-test: vet, build and run examples/mini-study (its own module, hw1's exported API only: study with pruning, 3-fold CV, four figures) in seconds
# Its go.sum is its own: after a change of go.mod's requirements, run `go mod tidy` in
# examples/mini-study too (`go mod tidy -diff` here says so).
examples-test:
	@cd examples/mini-study && { go mod tidy -diff || { echo "examples/mini-study: go.mod/go.sum are not tidy: run (cd examples/mini-study && go mod tidy)" >&2; exit 1; }; }
	cd examples/mini-study && go vet ./... && out=$$(mktemp -d) && go run . -out $$out && \
		n=$$(ls $$out/*.png | wc -l) && rm -rf $$out && \
		if [ "$$n" -ne 4 ]; then echo "examples/mini-study wrote $$n figures, want 4" >&2; exit 1; fi

## notebooks-test: execute both notebooks headless (nbconvert/nbclient, smoke preset); fail on errors or missing figures
notebooks-test:
	HW1_PRESET=smoke $(PY) scripts/check_notebooks.py

## browser-test: JupyterLab in Debian's Chromium (playwright-core) runs each notebook and takes a screenshot; optuna-dashboard shows a smoke study
browser-test:
	HW1_PRESET=smoke node tests/browser/check_notebooks.mjs
	node tests/browser/check_dashboard.mjs

## doctor: what backend, versions and datasets this machine has
doctor: setup
	bin/hw1 doctor

## lab: JupyterLab on the notebooks
lab: setup
	.venv/bin/jupyter lab --ServerApp.root_dir=$(CURDIR)/notebooks

## dashboard: optuna-dashboard on a study: make dashboard STUDY=out/regression_quick_results (a results folder or its study.journal) [DASHBOARD_PORT=8080]
DASHBOARD_PORT ?= 8080
dashboard: setup
	@study='$(STUDY)'; \
	if [ -z "$$study" ]; then echo "usage: make dashboard STUDY=<results folder or study.journal> [DASHBOARD_PORT=8080]" >&2; exit 2; fi; \
	if [ -d "$$study" ]; then study="$$study/study.journal"; fi; \
	if [ -f "$$study" ]; then study=$$(realpath "$$study"); fi; \
	if [ ! -f "$$study" ]; then echo "make dashboard: no study journal at $$study" >&2; exit 2; fi; \
	if head -n 1 "$$study" | grep -q '"op":'; then \
		echo "make dashboard: $$study is in hw1's first journal format, which optuna-dashboard cannot read; any hw1 run of the study converts it to Optuna's format once" >&2; exit 2; fi; \
	echo "optuna-dashboard on http://127.0.0.1:$(DASHBOARD_PORT)/ for $$study (Ctrl-C stops it)"; \
	exec .venv/bin/optuna-dashboard --host 127.0.0.1 --port $(DASHBOARD_PORT) "$$study"

## gallery: every figure from a small real run, in out/gallery/index.html
gallery: setup
	bin/hw1 gallery --out out/gallery

## bench: the project against PyTorch, alternately, with medians and ratios (needs python3-torch, python3-optuna)
bench: setup
	bash bench/run.sh

## bench-quick: the same in under 5 minutes; ends with the three ratio lines
bench-quick: setup
	bash bench/run.sh --quick

## bench-hpo: lib/hpo's TPE against Optuna on test functions (about an hour); last line worst_regret_ratio=
bench-hpo:
	bash bench/hpo/run.sh

clean:
	rm -rf bin out notebooks/.executed
