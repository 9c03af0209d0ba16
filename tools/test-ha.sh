#!/usr/bin/env bash
# End-to-end test of the highly available control plane on the lab:
#   1. `LAB_TOPOLOGY=ha tools/lab.sh up`: mirror, 3 control planes + 2
#      workers, then playbooks/site.yml;
#   2. site.yml again: every host must report changed=0;
#   3. tests/ha (etcd and API on every control plane; the control plane
#      holding the API address stopped: API and workloads keep answering,
#      site.yml with it down completes for the others and names it; it
#      comes back Ready) and the cluster tests on this topology;
#   4. `tools/lab.sh down`, unless LAB_KEEP=1.
# Prints the wall time of each step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${VENV:-$root/.venv}"
export PATH="$venv/bin:$PATH"
export ANSIBLE_CONFIG="$root/ansible.cfg"
export LAB_TOPOLOGY=ha
inventory="$root/inventories/lab-ha/hosts.yml"
logs="$root/build/test-ha"
mkdir -p "$logs"

if [ -z "${LAB_KEEP:-}" ]; then
  trap 'echo "==> test-ha: removing the lab"; tools/lab.sh down >"$logs/down.log" 2>&1 || true' EXIT
fi

step() { echo "==> test-ha: $*"; }
secs() { echo $(( $(date +%s) - $1 )); }

t=$(date +%s)
step "bringing up the HA lab and running site.yml (log: $logs/up.log)"
tools/lab.sh up >"$logs/up.log" 2>&1 || { tail -40 "$logs/up.log"; exit 1; }
step "lab up and site.yml done in $(secs "$t") s"

export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$root/lab/.state/ssh/known_hosts"
t=$(date +%s)
step "second run of site.yml (must change nothing)"
ansible-playbook -i "$inventory" playbooks/site.yml >"$logs/rerun.log" 2>&1 || { tail -40 "$logs/rerun.log"; exit 1; }
python3 tools/recap_unchanged.py "$logs/rerun.log"
step "second run done in $(secs "$t") s"

t=$(date +%s)
step "cluster tests and HA tests (a control plane is stopped and started again)"
ND_LAB_REQUIRED=1 LAB_INVENTORY="$inventory" python -m pytest -p no:cacheprovider -s tests/cluster/test_cluster.py tests/ha
step "tests done in $(secs "$t") s"
