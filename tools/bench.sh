#!/usr/bin/env bash
# Benchmarks of the collection on the lab. Prints figures; asserts nothing.
#   1. artifact builder with a warm cache (nothing to build);
#   2. node creation from the cached image: lab up without site.yml;
#   3. memory per idle node (podman stats);
#   4. cold bootstrap: site.yml on fresh nodes, 1 control plane + 2 workers,
#      to all nodes Ready, with the per-role time split;
#   5. no-op rerun of site.yml: wall time, tasks per host, changed count.
# The lab is removed first and at the end (set LAB_KEEP=1 to keep it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${VENV:-$root/.venv}"
export PATH="$venv/bin:$PATH"
export ANSIBLE_CONFIG="$root/ansible.cfg"
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
