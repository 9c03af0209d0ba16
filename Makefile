# Entry points for users and CI. Every target installs what it needs.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
COLLECTION_LINK := .cache/collections/ansible_collections/normaldance/platform

.PHONY: help system-deps venv collection-link test lint yamllint ansible-lint sanity units integration molecule build docs-lint \
        lab-artifacts-tests test-cluster test-ha \
        lab lab-down lab-status bench clean

help:
	@echo "make lab         bring up the local lab and run the main playbook on it"
	@echo "make test        run every test (lint, sanity, units, integration, molecule, build, docs)"
	@echo "make lab-down    remove everything the lab created"
	@echo "make lab-status  show what the lab runs and where"
	@echo "make bench       run the benchmarks and print figures"

system-deps:
	@tools/install-system-deps.sh

venv:
	@tools/bootstrap-venv.sh $(VENV)

# The checkout itself is the collection; expose it under an
# ansible_collections/ path so that ansible and pytest can import it.
collection-link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@[ -L $(COLLECTION_LINK) ] || ln -sfn $(CURDIR) $(COLLECTION_LINK)

test: system-deps venv collection-link
	@$(BIN)/python tools/run_tests.py

yamllint: venv
	$(BIN)/yamllint --strict .

ansible-lint: venv collection-link
	$(BIN)/ansible-lint

sanity: venv
	tools/ansible-test.sh sanity

units: venv collection-link
	$(BIN)/python -m pytest tests/unit

integration: venv collection-link
	$(BIN)/python -m pytest tests/integration

molecule: venv collection-link
	tools/molecule.sh

# The lab builder's own tests (its helpers and the flannel CNI plugin).
lab-artifacts-tests: venv
	$(BIN)/python -m pytest -p no:cacheprovider lab/artifacts/tests
	cd lab/artifacts/src/flannel-cni && go test ./...

# The main job on the lab, end to end (tools/test-cluster.sh).
test-cluster: venv collection-link
	tools/test-cluster.sh

# The highly available control plane on the lab (tools/test-ha.sh).
test-ha: venv collection-link
	tools/test-ha.sh

build: venv
	tools/build-collection.sh

docs-lint: venv collection-link
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

lab: venv collection-link
	tools/lab.sh up

lab-down: venv collection-link
	tools/lab.sh down

lab-status: venv collection-link
	tools/lab.sh status

bench: venv collection-link
	tools/bench.sh

clean:
	rm -rf .cache build collections .ansible tests/output *.tar.gz
