#!/usr/bin/env bash
# Benchmarks of the collection on the lab. Prints figures; asserts nothing.
#   1. artifact builder with a warm cache (nothing to build);
#   2. node creation from the cached image: lab up without site.yml;
#   3. memory per idle node (podman stats);
#   4. cold bootstrap: site.yml on fresh nodes, 1 control plane + 2 workers,
#      to all nodes Ready, with the per-role time split;
#   5. no-op rerun of site.yml: wall time, tasks per host, changed count;
#   6. scale.yml adding one worker, and with nothing to add;
#   7. remove_node.yml for that worker;
#   8. the ingress: requests per second through the ingress address (wrk,
#      30 s, HTTPS, a small response) with p50/p90/p99 latency, and 3
#      failovers of the ingress address (the node holding it stopped under a
#      prober every 0.2 s): failed requests and seconds until it answers.
# Upgrade figures (per node, probe failures) come from tools/test-ha.sh.
# The lab is removed first and at the end (set LAB_KEEP=1 to keep it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inventory="${LAB_INVENTORY:-$root/inventories/lab/hosts.yml}"
out="$root/build/bench"
mkdir -p "$out"
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

tools/lab.sh down >"$out/down-before.log" 2>&1
[ -n "${LAB_KEEP:-}" ] || trap 'tools/lab.sh down >"$out/down-after.log" 2>&1 || true' EXIT

t=$(now); python lab/artifacts/build.py >"$out/artifacts.log" 2>&1
echo "artifact builder, warm cache:            $(since "$t") s"

t=$(now); LAB_SKIP_SITE=1 tools/lab.sh up >"$out/lab-up.log" 2>&1
echo "lab up from cached images (no site.yml): $(since "$t") s"

podman stats --no-stream --format '{{.Name}} {{.MemUsage}}' | grep '^nd-' | sed 's/^/idle memory: /'

export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$root/lab/.state/ssh/known_hosts"
t=$(now); ansible-playbook -i "$inventory" playbooks/site.yml >"$out/site-cold.log" 2>&1
echo "cold bootstrap (site.yml, fresh nodes to all Ready): $(since "$t") s"
sed -n '/^ROLES RECAP/,/^total/p' "$out/site-cold.log" | grep -E ' -+ [0-9.]+s$' | sed 's/^/  role split: /'

t=$(now); ansible-playbook -i "$inventory" playbooks/site.yml >"$out/site-noop.log" 2>&1
echo "no-op rerun of site.yml:                 $(since "$t") s"
sed -n '/^PLAY RECAP/,/^$/p' "$out/site-noop.log" | tail -n +2 | grep . | sed 's/^/  recap: /'

# 8. The ingress, on the converged 3-node lab.
python tools/bench_ingress.py 2>&1 | tee "$out/ingress.log" | grep '^ingress'
for run in 1 2 3; do
  ND_LAB_REQUIRED=1 python -m pytest -p no:cacheprovider -s -q tests/platform/test_ingress.py -k stopping \
    >"$out/ingress-failover-$run.log" 2>&1 || echo "ingress failover run $run: FAILED (see $out/ingress-failover-$run.log)"
  grep '^ingress failover' "$out/ingress-failover-$run.log" | sed "s/^/run $run: /"
done

# 6. scale.yml: one worker (nd-w3) added to the running lab, then the same
#    run with nothing to add: the second figure is what the run costs on the
#    existing nodes (one stat each, the control plane asked who leads).
mkdir -p inventories/lab-scale/artifacts
install -m 0600 inventories/lab/artifacts/admin.conf inventories/lab-scale/artifacts/admin.conf
LAB_INVENTORY="$root/inventories/lab-scale" LAB_SKIP_SITE=1 LAB_SKIP_ARTIFACTS=1 tools/lab.sh up >"$out/lab-up-w3.log" 2>&1
t=$(now); ansible-playbook -i inventories/lab-scale/hosts.yml playbooks/scale.yml >"$out/scale.log" 2>&1
add=$(since "$t")
echo "scale.yml adding nd-w3 to the running lab: $add s"
sed -n '/^PLAY RECAP/,/^$/p' "$out/scale.log" | tail -n +2 | grep . | sed 's/^/  recap: /'
t=$(now); ansible-playbook -i inventories/lab-scale/hosts.yml playbooks/scale.yml >"$out/scale-noop.log" 2>&1
noop=$(since "$t")
python3 -c "import sys; a, n = map(float, sys.argv[1:]); print(f'scale.yml with nothing to add: {n:.1f} s ({100 * n / a:.0f}% of the add; the part spent on existing nodes)')" "$add" "$noop"

# 7. remove_node.yml: nd-w3 drained, deleted and reset.
t=$(now); ansible-playbook -i inventories/lab-scale/hosts.yml playbooks/remove_node.yml -e remove_nodes=nd-w3 >"$out/remove.log" 2>&1
echo "remove_node.yml for nd-w3 (drain, reset, delete): $(since "$t") s"
