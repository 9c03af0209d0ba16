#!/usr/bin/env bash
# End-to-end test of the highly available control plane on the lab, and of
# upgrade.yml on it:
#   1. `LAB_TOPOLOGY=ha tools/lab.sh up` with site.yml at the previous minor
#      (HA_FROM_VERSION, default 1.35.8): 3 control planes + 2 workers;
#      without the platform layer (--skip-tags platform: test-cluster
#      proves it), unless HA_PLATFORM=1, so that the HA, restore and upgrade
#      steps fit the time of `make test`;
#   2. with HA_RERUN=1, site.yml again: every host must report changed=0
#      (left out by default to keep `make test` short: the single control
#      plane test proves changed=0, and step 3 reruns site.yml here);
#   3. tests/ha (the cluster tests run in test-cluster): etcd and API on every control plane;
#      the control plane holding the API address is stopped: the API and a
#      workload keep answering, site.yml with it down completes for the
#      others and names it; it comes back Ready;
#   4. etcd backup and restore (quorum rebuilt on the 3 control planes);
#   5. tools/test-upgrade.sh: refusals, check mode, an upgrade to
#      HA_TO_VERSION (default 1.36.5) stopped after the first control plane
#      and resumed, under a continuous probe of a workload;
#   6. `tools/lab.sh down`, unless LAB_KEEP=1.
# Prints the wall time of each step.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export LAB_TOPOLOGY=ha
inventory="$root/inventories/lab-ha/hosts.yml"
from="${HA_FROM_VERSION:-1.35.8}"
to="${HA_TO_VERSION:-1.36.5}"
LAB_SITE_ARGS="-e platform_kubernetes_version=$from"
if [ -z "${HA_PLATFORM:-}" ]; then
  LAB_SITE_ARGS+=" --skip-tags platform"
fi
export LAB_SITE_ARGS
logs="$root/build/test-ha"
mkdir -p "$logs"

if [ -z "${LAB_KEEP:-}" ]; then
  trap 'echo "==> test-ha: removing the lab"; tools/lab.sh down >"$logs/down.log" 2>&1 || true' EXIT
fi

# Fresh nodes: a lab left running (by `make lab` or an earlier test) would
# turn the bootstrap into a rerun.
step "removing any lab left running"
tools/lab.sh down >"$logs/down-before.log" 2>&1 || { tail -20 "$logs/down-before.log"; exit 1; }

t=$(date +%s)
step "bringing up the HA lab and running site.yml at $from (log: $logs/up.log)"
tools/lab.sh up >"$logs/up.log" 2>&1 || { tail -40 "$logs/up.log"; exit 1; }
step "lab up and site.yml done in $(secs "$t") s"

export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$root/lab/.state/ssh/known_hosts"
if [ -n "${HA_RERUN:-}" ]; then
  t=$(date +%s)
  step "second run of site.yml (must change nothing)"
  # shellcheck disable=SC2086
  ansible-playbook -i "$inventory" playbooks/site.yml $LAB_SITE_ARGS >"$logs/rerun.log" 2>&1 || { tail -40 "$logs/rerun.log"; exit 1; }
  python3 tools/recap_unchanged.py "$logs/rerun.log"
  step "second run done in $(secs "$t") s"
fi

t=$(date +%s)
step "HA tests (a control plane is stopped and started again)"
ND_LAB_REQUIRED=1 LAB_INVENTORY="$inventory" python -m pytest -p no:cacheprovider -s --durations=0 --durations-min=5 tests/ha
step "tests done in $(secs "$t") s"

t=$(date +%s)
step "etcd backup, a corrupt snapshot refused, restore on the 3 control planes (tests/cluster/test_etcd.py)"
ND_ETCD_RESTORE_TEST=1 ND_LAB_REQUIRED=1 LAB_INVENTORY="$inventory" python -m pytest -p no:cacheprovider -s --durations=0 --durations-min=5 tests/cluster/test_etcd.py
step "etcd test done in $(secs "$t") s"

t=$(date +%s)
step "upgrade.yml from $from to $to on the HA cluster (tools/test-upgrade.sh)"
# 0 failed probes allowed (test-upgrade.sh's default), the figure the
# benchmarks report: 0 of 24470 and 0 of 21685 in the last two runs.
LAB_INVENTORY="$inventory" FROM_VERSION="$from" TO_VERSION="$to" tools/test-upgrade.sh
step "upgrade test done in $(secs "$t") s"
