#!/usr/bin/env bash
# The local lab: systemd nodes in rootful podman containers plus a mirror
# (OCI registry and files), see docs/lab.md.
#
#   tools/lab.sh up       build/reuse artifacts and images, start mirror and
#                         nodes, then run playbooks/site.yml on the lab
#   tools/lab.sh down     remove every container, volume and network the lab
#                         created (label normaldance.lab=1), nothing else
#   tools/lab.sh status   show what runs, where
#
# Environment:
#   LAB_TOPOLOGY=ha       use inventories/lab-ha (3 control planes) instead of
#                         inventories/lab (1 control plane + 2 workers)
#   LAB_INVENTORY=DIR     use this inventory for the node list (wins over
#                         LAB_TOPOLOGY)
#   ND_LAB_CACHE=DIR      cache for the rootfs, artifacts and registry data
#                         (default /var/cache/normaldance-lab)
#   LAB_SKIP_ARTIFACTS=1  do not run the artifact builder
#   LAB_SKIP_SITE=1       do not run playbooks/site.yml after the lab is up
#   LAB_SITE_ARGS="..."   extra arguments for that site.yml run, for example
#                         "-e platform_kubernetes_version=1.35.8"
#   LAB_DOWN_IMAGES=1     lab-down also removes the lab images
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${VENV:-$root/.venv}"

export PATH="$venv/bin:$PATH"
export ANSIBLE_CONFIG="$root/ansible.cfg"
export ND_LAB_CACHE="${ND_LAB_CACHE:-/var/cache/normaldance-lab}"

case "${LAB_TOPOLOGY:-default}" in
  default|"") topology_inventory="$root/inventories/lab" ;;
  ha) topology_inventory="$root/inventories/lab-ha" ;;
  *) echo "error: LAB_TOPOLOGY must be 'default' or 'ha', not '${LAB_TOPOLOGY}'" >&2; exit 2 ;;
esac
export LAB_INVENTORY="${LAB_INVENTORY:-$topology_inventory}"
if [ ! -e "$LAB_INVENTORY" ]; then
  echo "error: lab inventory $LAB_INVENTORY does not exist" >&2
  exit 1
fi

# How Ansible reaches the nodes. The lab inventory carries the same settings;
# these make `up` work before it does.
ssh_dir="$root/lab/.state/ssh"
export ANSIBLE_REMOTE_USER=root
export ANSIBLE_PRIVATE_KEY_FILE="$ssh_dir/id_ed25519"
export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$ssh_dir/known_hosts"

playbook() {
  ansible-playbook "$root/lab/playbooks/$1.yml" "${@:2}"
}

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "error: the lab runs rootful podman containers: run it as root" >&2
  exit 1
fi

cmd="${1:-}"
# One lab per machine: `up` and `down` of several checkouts or terminals
# would tear down each other's nodes half-way. They wait for each other.
if [ "$cmd" = up ] || [ "$cmd" = down ]; then
  exec 8>/run/lock/normaldance-lab.lock
  if ! flock -n 8; then
    echo "==> lab: another 'tools/lab.sh up|down' is running on this machine; waiting for it"
    flock 8
  fi
fi
case "$cmd" in
  up)
    t0=$(date +%s)
    "$root/tools/install-system-deps.sh"
    if [ -z "${LAB_SKIP_ARTIFACTS:-}" ] && [ -f "$root/lab/artifacts/build.py" ]; then
      echo "==> lab: building or reusing the artifacts (lab/artifacts/build.py)"
      t=$(date +%s)
      # Progress goes to the terminal as the builder prints it.
      if ! python -u "$root/lab/artifacts/build.py"; then
        echo "warning: the artifact builder failed; the lab comes up with what the cache holds" >&2
      fi
      echo "==> lab: artifacts step took $(elapsed "$t")"
    elif [ -z "${LAB_SKIP_ARTIFACTS:-}" ]; then
      echo "==> lab: lab/artifacts/build.py does not exist yet: no artifacts are built"
    fi
    echo "==> lab: bringing up mirror and nodes from $LAB_INVENTORY"
    t=$(date +%s)
    playbook up
    echo "==> lab: lab playbook took $(elapsed "$t")"
    echo "==> lab: checking that every node answers over SSH"
    ansible -i "$LAB_INVENTORY" --playbook-dir "$root/playbooks" all -m ansible.builtin.ping
    if [ -z "${LAB_SKIP_SITE:-}" ] && [ -f "$root/playbooks/site.yml" ]; then
      echo "==> lab: running playbooks/site.yml on the lab"
      t=$(date +%s)
      # shellcheck disable=SC2086  # LAB_SITE_ARGS holds several words
      ansible-playbook -i "$LAB_INVENTORY" "$root/playbooks/site.yml" ${LAB_SITE_ARGS:-}
      echo "==> lab: site.yml took $(elapsed "$t")"
    fi
    echo "==> lab: up in $(elapsed "$t0")"
    ;;
  down)
    playbook down
    ;;
  status)
    playbook status
    ;;
  *)
    sed -n '2,22p' "$0" >&2
    exit 2
    ;;
esac
