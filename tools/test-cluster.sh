#!/usr/bin/env bash
# End-to-end test of the main job on the lab, as a user would run it:
#   1. `tools/lab.sh up`: mirror and nodes, then playbooks/site.yml, while
#      the packets leaving the lab network are counted (0 allowed besides
#      the Debian mirror and name lookups: tools/egress_counter.py);
#   2. site.yml again: every host must report changed=0 (the same no-op run
#      with the mitogen strategy is a benchmark: make bench, BENCH_MITOGEN=1);
#   3. site.yml --check --diff, at the same time as step 2: changed=0 and no
#      failure on the converged cluster; then, with a changed node label and
#      a new namespace, the change is shown and not made;
#   4. the lab smoke test, the cluster tests and the platform base tests
#      (tests/lab, tests/cluster, tests/platform), then the Molecule scenarios
#      of the platform roles on the converged lab (`tools/molecule.sh
#      platform_namespaces ...`, verify only: their converge, idempotence
#      and check steps would repeat steps 2 and 3, which assert changed=0
#      for the whole site.yml); the tests
#      that only add workloads run 4 at a time, those that stop a node or
#      restart the control plane alone afterwards;
#   5. the day-2 playbooks on one more node, nd-w3 (tests/day2);
#   6. `tools/lab.sh down`, unless LAB_KEEP=1.
# Prints the wall time of each step.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inventory="${LAB_INVENTORY:-$root/inventories/lab/hosts.yml}"
logs="$root/build/test-cluster"
mkdir -p "$logs"
# Step 4's tests: those that only add workloads of their own, and those that
# stop a node (ingress failover, local volume after a restart) or restart the
# control plane (certificate renewal, etcd restore).
shared_tests=(tests/lab tests/cluster/test_cluster.py tests/cluster/test_etcd_backup_copies.py
              tests/platform/test_autoscaling.py tests/platform/test_keda.py)
disruptive_tests=(tests/cluster/test_certificates.py tests/cluster/test_etcd.py
                  tests/platform/test_platform_base.py tests/platform/test_ingress.py)
# A test file in neither list would never run: refuse before the lab is touched.
for file in tests/lab/test_*.py tests/cluster/test_*.py tests/platform/test_*.py; do
  case " ${shared_tests[*]} ${disruptive_tests[*]} " in
    *" $file "* | *" $(dirname "$file") "*) ;;
    *) echo "tools/test-cluster.sh: $file is in neither shared_tests nor disruptive_tests; add it to one" >&2; exit 2 ;;
  esac
done

cleanup() {
  python3 "$root/tools/egress_counter.py" stop >/dev/null 2>&1 || true
  if [ -z "${LAB_KEEP:-}" ]; then
    echo "==> test-cluster: removing the lab"
    tools/lab.sh down >"$logs/down.log" 2>&1 || true
  fi
}
trap cleanup EXIT

# Fresh nodes: a lab left running (by `make lab` or an earlier test) would
# turn the bootstrap into a rerun.
step "removing any lab left running"
tools/lab.sh down >"$logs/down-before.log" 2>&1 || { tail -20 "$logs/down-before.log"; exit 1; }

t=$(date +%s)
step "bringing up the lab nodes (log: $logs/up.log)"
LAB_SKIP_SITE=1 tools/lab.sh up >"$logs/up.log" 2>&1 || { tail -40 "$logs/up.log"; exit 1; }
step "lab nodes up in $(secs "$t") s"

# Nothing may leave the site while site.yml installs fresh nodes: every
# packet routed from the lab network to outside it is counted, except the
# Debian mirror the nodes use and their name lookups (tools/egress_counter.py).
python3 tools/egress_counter.py start --network 10.210.0.0/24 --node 10.210.0.11 \
  --internal 10.244.0.0/16 --internal 10.96.0.0/12
export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$root/lab/.state/ssh/known_hosts"
t=$(date +%s)
step "site.yml on the fresh nodes (log: $logs/site.log)"
ansible-playbook -i "$inventory" playbooks/site.yml >"$logs/site.log" 2>&1 || { tail -40 "$logs/site.log"; exit 1; }
step "site.yml done in $(secs "$t") s"
python3 tools/egress_counter.py report
python3 tools/egress_counter.py stop

# Steps 2 and 3 run at the same time: on a converged cluster neither may
# change anything, and each is judged by its own recap. They mostly wait on
# SSH round trips, so side by side they take little more than the longer one.
t=$(date +%s)
step "second run of site.yml (must change nothing) and site.yml --check --diff (must change nothing, must not fail), side by side"
rerun_and_check "$logs/rerun.log" "$logs/check.log" "--check --diff" ansible-playbook -i "$inventory" playbooks/site.yml || exit 1
step "second run and check run done in $(secs "$t") s"

t=$(date +%s)
step "site.yml --check --diff with a changed node label (must show it and change nothing)"
ansible-playbook -i "$inventory" playbooks/site.yml --check --diff --limit 'nd-w1,localhost' --tags cluster_nodes \
  -e '{"cluster_nodes_labels": {"normaldance.io/pool": "changed-in-check-mode"}}' >"$logs/check-label.log" 2>&1 \
  || { tail -40 "$logs/check-label.log"; exit 1; }
grep -q 'changed-in-check-mode' "$logs/check-label.log" || { echo "the diff does not show the new label"; exit 1; }
grep -Eq '^nd-w1 +: .*changed=1 ' "$logs/check-label.log" || { grep -A4 'PLAY RECAP' "$logs/check-label.log"; exit 1; }
python - "$(dirname "$inventory")/artifacts/admin.conf" <<'PY'
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
value = client.CoreV1Api().read_node("nd-w1").metadata.labels.get("normaldance.io/pool")
print(f"label on nd-w1 after the check run: {value}")
sys.exit(0 if value == "general" else 1)
PY
step "label check done in $(secs "$t") s"

t=$(date +%s)
step "platform.yml --check --diff with one more namespace (must show it and create nothing)"
ansible-playbook -i "$inventory" playbooks/platform.yml --check --diff --tags platform_namespaces \
  -e '{"platform_namespaces_extra": ["nd-check-only"]}' >"$logs/check-platform.log" 2>&1 \
  || { tail -40 "$logs/check-platform.log"; exit 1; }
grep -q 'nd-check-only' "$logs/check-platform.log" || { echo "the diff does not show the new namespace"; exit 1; }
grep -Eq '^localhost +: .*changed=1 ' "$logs/check-platform.log" || { grep -A4 'PLAY RECAP' "$logs/check-platform.log"; exit 1; }
python - "$(dirname "$inventory")/artifacts/admin.conf" <<'PY'
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
names = {ns.metadata.name for ns in client.CoreV1Api().list_namespace().items}
print(f"namespace nd-check-only after the check run: {'present' if 'nd-check-only' in names else 'absent'}")
sys.exit(1 if "nd-check-only" in names else 0)
PY
step "platform check done in $(secs "$t") s"

# The tests that only add workloads of their own (uniquely named) run side
# by side (pytest-xdist, one test file per worker): they mostly wait on the
# cluster. -rP prints what each printed (its figures). The tests that stop a
# node or restart the control plane then run alone, one after another.
t=$(date +%s)
step "lab smoke test, cluster and platform tests that share the cluster (4 at a time)"
ND_LAB_REQUIRED=1 LAB_INVENTORY="$inventory" python -m pytest -p no:cacheprovider -n 4 --dist loadfile -rP \
  --durations=0 --durations-min=5 "${shared_tests[@]}"
step "shared tests done in $(secs "$t") s"
t=$(date +%s)
step "cluster and platform tests that stop a node or restart the control plane (one at a time)"
ND_LAB_REQUIRED=1 LAB_INVENTORY="$inventory" python -m pytest -p no:cacheprovider -s --durations=0 --durations-min=5 \
  "${disruptive_tests[@]}"
step "disruptive tests done in $(secs "$t") s"

t=$(date +%s)
step "Molecule scenarios of the platform roles on the converged lab (log: $logs/molecule-platform.log)"
# The platform is converged already, and steps 2 and 3 proved a no-op run
# of it: only the scenarios' checks run here. Together they are the checks
# of the scenario platform (extensions/molecule/platform/verify.yml).
# One scenario per platform role: extensions/molecule/platform_<role>/.
role_scenarios=()
for dir in extensions/molecule/platform_*/; do role_scenarios+=("$(basename "$dir")"); done
MOLECULE_ACTIONS="verify" ANSIBLE_INVENTORY="$inventory" tools/molecule.sh "${role_scenarios[@]}" \
  >"$logs/molecule-platform.log" 2>&1 || { tail -60 "$logs/molecule-platform.log"; exit 1; }
sed 's/\x1b\[[0-9;]*m//g' "$logs/molecule-platform.log" | grep -E '^==> molecule: molecule verify|localhost +: ok=' || true
step "Molecule platform roles done in $(secs "$t") s"

t=$(date +%s)
step "day-2 playbooks: nd-w3 added, reset, joined again with nd-w1 down, removed (tests/day2)"
# inventories/lab-scale is the lab plus nd-w3; it uses the lab's kubeconfig.
mkdir -p inventories/lab-scale/artifacts
install -m 0600 inventories/lab/artifacts/admin.conf inventories/lab-scale/artifacts/admin.conf
LAB_INVENTORY="$root/inventories/lab-scale" LAB_SKIP_SITE=1 LAB_SKIP_ARTIFACTS=1 tools/lab.sh up >"$logs/up-w3.log" 2>&1 \
  || { tail -40 "$logs/up-w3.log"; exit 1; }
ND_LAB_REQUIRED=1 python -m pytest -p no:cacheprovider -s --durations=0 --durations-min=5 tests/day2
step "day-2 tests done in $(secs "$t") s"
