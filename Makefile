# The README's two commands are `make run` and `make test`; both set up what is
# missing first (scripts/setup.sh), so they work on a fresh Debian 12 machine.

SHELL := /bin/bash
# Tests and CI read the datasets from the shared copy beside the repository
# when there is one (lib/data otherwise looks in its usual places).
SHARED_DATA := $(abspath $(CURDIR)/../shared/data)
export HW1_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/regression/train_data.csv),$(SHARED_DATA))

.PHONY: all setup run test unit-test vet doctor lab bench bench-quick bench-hpo clean

all: test

## setup: install what is missing (apt dataset, venv with the XLA plugin, notebook tools) and build bin/hw1
setup:
	@scripts/setup.sh

## run: set up, then run the main job
run: setup
	bin/hw1 doctor

## test: set up, then pass every test (CI runs this)
test: setup vet unit-test

vet:
	go vet ./...

# HW1_REQUIRE_*: a missing XLA plugin or dataset fails the tests instead of skipping them.
unit-test:
	HW1_REQUIRE_XLA=1 HW1_REQUIRE_DATA=1 go test -count=1 -timeout 30m ./...

## doctor: what backend, versions and datasets this machine has
doctor: setup
	bin/hw1 doctor

clean:
	rm -rf bin out notebooks/.executed
