#!/usr/bin/env bash
# No-op rerun figures of site.yml for several lab sizes (part of `make bench`).
# For each topology: the lab is brought up fresh with site.yml, then site.yml
# runs again BENCH_RUNS times (default 2); each run must report changed=0.
# Prints wall time (min/median/max), tasks per host and the ten slowest
# tasks of the last run (ansible.posix.profile_tasks).
#
#   BENCH_TOPOLOGIES="lab lab-ha lab-7" tools/bench-rerun.sh     (default)
#   BENCH_NODE_PREPARE="lab lab-12" tools/bench-rerun.sh         also: no-op
#       `nodes.yml --tags node_prepare` on those topologies (nodes only
#       prepared, no cluster), the figure the 12-node target is about
#   BENCH_MITOGEN=1                                              also: each
#       no-op run again with the mitogen strategy (ND_MITOGEN)
#   BENCH_SITE_12=1                                              also: site.yml
#       on the 12-node topology and its no-op rerun (about 15 min)
#
# Every topology lives in inventories/<name>. The lab is removed at the end
# unless LAB_KEEP=1 (then the last topology stays up).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$root/lab/.state/ssh/known_hosts"
out="$root/build/bench-rerun"
mkdir -p "$out"
runs="${BENCH_RUNS:-2}"
[ -n "${LAB_KEEP:-}" ] || trap 'tools/lab.sh down >"$out/down-after.log" 2>&1 || true' EXIT

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
stats() { python3 -c "import statistics, sys; v = sorted(map(float, sys.argv[1:])); print(f'min {v[0]:.1f} s, median {statistics.median(v):.1f} s, max {v[-1]:.1f} s')" "$@"; }
hosts_of() { python3 -c "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); \
  walk = lambda g: set((g.get('hosts') or {})) | set().union(*[walk(c or {}) for c in (g.get('children') or {}).values()]); \
  print(len(walk(d['all'])))" "inventories/$1/hosts.yml"; }

# Time `ansible-playbook ARGS` $runs times on the running lab; each must be a no-op.
noop_runs() {
  local label="$1"; shift
  local times=() i t
  for i in $(seq 1 "$runs"); do
    t=$(now)
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks ansible-playbook "$@" >"$out/$label-noop-$i.log" 2>&1 \
      || { tail -30 "$out/$label-noop-$i.log"; return 1; }
    times+=("$(since "$t")")
    python3 tools/recap_unchanged.py "$out/$label-noop-$i.log" >/dev/null \
      || { echo "$label: run $i changed something:"; python3 tools/recap_unchanged.py "$out/$label-noop-$i.log"; return 1; }
  done
  echo "$label: no-op runs ${times[*]} s -> $(stats "${times[@]}")"
  if [ -n "${BENCH_MITOGEN:-}" ]; then
    local mtimes=() dir
    dir="$(python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')"
    for i in $(seq 1 "$runs"); do
      t=$(now)
      ANSIBLE_STRATEGY_PLUGINS="$dir/plugins/strategy" ANSIBLE_STRATEGY=mitogen_linear ansible-playbook "$@" \
        >"$out/$label-noop-mitogen-$i.log" 2>&1 || { tail -30 "$out/$label-noop-mitogen-$i.log"; return 1; }
      mtimes+=("$(since "$t")")
      python3 tools/recap_unchanged.py "$out/$label-noop-mitogen-$i.log" >/dev/null || return 1
    done
    echo "$label: no-op runs with mitogen ${mtimes[*]} s -> $(stats "${mtimes[@]}")"
  fi
  sed -n '/^PLAY RECAP/,/^$/p' "$out/$label-noop-$runs.log" | tail -n +2 | grep . \
    | awk '{ok=$3; sub("ok=","",ok); sk=$7; sub("skipped=","",sk); printf "  %s tasks %d (ok %d, skipped %d)\n", $1, ok+sk, ok, sk}'
  grep -E ' -+ [0-9.]+s$' "$out/$label-noop-$runs.log" | awk '{t=$NF; sub("s$", "", t); print t "\t" $0}' \
    | sort -n | tail -n 10 | cut -f2- | sed 's/^/  slow: /' || true
}

up() {
  local topology="$1"; shift
  tools/lab.sh down >"$out/$topology-down.log" 2>&1
  local t; t=$(now)
  LAB_INVENTORY="$root/inventories/$topology" "$@" tools/lab.sh up >"$out/$topology-up.log" 2>&1 \
    || { tail -30 "$out/$topology-up.log"; return 1; }
  echo "$topology ($(hosts_of "$topology") nodes): lab up in $(since "$t") s"
}

for topology in ${BENCH_TOPOLOGIES-lab lab-ha lab-7}; do
  up "$topology" env
  noop_runs "$topology site.yml" -i "inventories/$topology/hosts.yml" playbooks/site.yml
done

for topology in ${BENCH_NODE_PREPARE:-}; do
  up "$topology" env LAB_SKIP_SITE=1
  ansible-playbook -i "inventories/$topology/hosts.yml" playbooks/nodes.yml --tags node_prepare \
    >"$out/$topology-node_prepare-first.log" 2>&1 || { tail -30 "$out/$topology-node_prepare-first.log"; exit 1; }
  noop_runs "$topology node_prepare" -i "inventories/$topology/hosts.yml" playbooks/nodes.yml --tags node_prepare
done

if [ -n "${BENCH_SITE_12:-}" ]; then
  up lab-12 env
  noop_runs "lab-12 site.yml" -i inventories/lab-12/hosts.yml playbooks/site.yml
fi
