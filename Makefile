# Entry points for users and CI. Every target installs what it needs.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
# abspath: VENV may be relative (the default) or absolute.
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
COLLECTION_LINK := .cache/collections/ansible_collections/normaldance/platform

.PHONY: help system-deps venv collection-link test lint yamllint ansible-lint sanity units integration molecule build docs-lint \
        lab-artifacts-tests test-cluster test-ha \
        lab lab-down lab-status bench clean

# `make help` lists every target that carries a `## ` description.
help: ## this list
	@awk -F ':[^#]*## ' '/^[a-z][a-z-]*:[^=]*## /{printf "make %-20s %s\n", $$1, $$2}' $(firstword $(MAKEFILE_LIST))
	@echo
	@echo 'STAGES="units integration" make test   run only these stages'
	@echo 'TEST_LANES=1 make test                  run the stages one after another instead of in two lanes'
	@echo 'VENV=DIR make ...                       use the toolchain in DIR instead of .venv'

system-deps: ## install the Debian packages the tests and the lab use (tools/install-system-deps.sh)
	@tools/install-system-deps.sh

venv: ## create or refresh the pinned toolchain in .venv, or in $VENV (tools/bootstrap-venv.sh)
	@tools/bootstrap-venv.sh $(VENV)

# The checkout itself is the collection; expose it under an
# ansible_collections/ path so that ansible and pytest can import it.
collection-link: ## expose the checkout as .cache/collections/ansible_collections/normaldance/platform
	@mkdir -p $(dir $(COLLECTION_LINK))
	@[ -L $(COLLECTION_LINK) ] || ln -sfn $(CURDIR) $(COLLECTION_LINK)

test: system-deps venv collection-link ## run every stage below, lab and controller lanes at the same time (tools/run_tests.py)
	@$(BIN)/python tools/run_tests.py

lint: yamllint ansible-lint ## yamllint and ansible-lint

yamllint: venv ## stage: yamllint --strict over the repository
	$(BIN)/yamllint --strict .

ansible-lint: venv collection-link ## stage: ansible-lint, production profile
	$(BIN)/ansible-lint

sanity: venv ## stage: ansible-test sanity, offline (tools/ansible-test.sh)
	tools/ansible-test.sh sanity

units: venv collection-link ## stage: pytest tests/unit
	$(BIN)/python -m pytest tests/unit

integration: venv collection-link ## stage: pytest tests/integration
	$(BIN)/python -m pytest tests/integration

molecule: venv collection-link ## stage: the Molecule scenarios, on containers of their own (tools/molecule.sh)
	tools/molecule.sh

# The lab builder's own tests (its helpers and the flannel CNI plugin).
lab-artifacts-tests: venv ## stage: the lab artifact builder's tests and go test of the flannel CNI plugin
	$(BIN)/python -m pytest -p no:cacheprovider lab/artifacts/tests
	cd lab/artifacts/src/flannel-cni && go test ./...

# The main job on the lab, end to end (tools/test-cluster.sh).
test-cluster: venv collection-link ## stage (lab): site.yml, rerun, check mode, cluster and day-2 tests (tools/test-cluster.sh)
	tools/test-cluster.sh

# The highly available control plane on the lab (tools/test-ha.sh).
test-ha: venv collection-link ## stage (lab): 3 control planes, losing one, etcd restore, upgrade (tools/test-ha.sh)
	tools/test-ha.sh

build: venv ## stage: build the collection tarball into build/dist and install it (tools/build-collection.sh)
	tools/build-collection.sh

docs-lint: venv collection-link ## stage: antsibull-docs lint-collection-docs
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

lab: venv collection-link ## bring up the local lab and run playbooks/site.yml on it (tools/lab.sh up)
	tools/lab.sh up

lab-down: venv collection-link ## remove everything the lab created (tools/lab.sh down)
	tools/lab.sh down

lab-status: venv collection-link ## show what the lab runs and where (tools/lab.sh status)
	tools/lab.sh status

bench: venv collection-link ## run the benchmarks on the lab and print figures (tools/bench.sh, tools/bench-rerun.sh)
	tools/bench.sh
	tools/bench-rerun.sh

clean: ## remove caches, build output and test output
	rm -rf .cache build collections .ansible tests/output *.tar.gz
