#!/usr/bin/env bash
# The local lab: systemd nodes in rootful podman containers plus a mirror
# (OCI registry and files), see docs/lab.md. Commands and environment
# variables: usage() below (`tools/lab.sh` without a command prints it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'USAGE'
usage: tools/lab.sh up|down|status

  up       build/reuse artifacts and images, start mirror and nodes, then
           run playbooks/site.yml on the lab
  down     remove every container, volume and network the lab created
           (label normaldance.lab=1), nothing else
  status   show what runs, where

Environment:
  LAB_TOPOLOGY=ha       use inventories/lab-ha (3 control planes) instead of
                        inventories/lab (1 control plane + 2 workers)
  LAB_INVENTORY=DIR     use this inventory for the node list (wins over
                        LAB_TOPOLOGY)
  ND_LAB_CACHE=DIR      cache for the rootfs, artifacts and registry data
                        (default /var/cache/normaldance-lab)
  LAB_SKIP_ARTIFACTS=1  do not run the artifact builder
  LAB_SKIP_SITE=1       do not run playbooks/site.yml after the lab is up
  LAB_SITE_ARGS="..."   extra arguments for that site.yml run, for example
                        "-e platform_kubernetes_version=1.35.8"
  LAB_DOWN_IMAGES=1     lab-down also removes the lab images
USAGE
}

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
    step "another 'tools/lab.sh up|down' is running on this machine; waiting for it"
    flock 8
  fi
fi
case "$cmd" in
  up)
    t0=$(date +%s)
    "$root/tools/install-system-deps.sh"
    if [ -z "${LAB_SKIP_ARTIFACTS:-}" ]; then
      step "building or reusing the artifacts (lab/artifacts/build.py)"
      t=$(date +%s)
      # Progress goes to the terminal as the builder prints it, and to a log
      # whose failure lines are repeated when it fails: the lab does not come
      # up without its artifacts.
      mkdir -p "$root/build/lab"
      artifacts_log="$root/build/lab/artifacts.log"
      rc=0
      # Only the Kubernetes release this lab runs: LAB_SITE_ARGS's
      # platform_kubernetes_version, else the inventory's. The tests that
      # need another one (test-ha starts at the previous minor) build it
      # when they bring their lab up.
      k8s_version="$(sed -n 's/.*platform_kubernetes_version=\([0-9.]*\).*/\1/p' <<<"${LAB_SITE_ARGS:-}")"
      if [ -z "$k8s_version" ]; then
        k8s_version="$(sed -n 's/^platform_kubernetes_version: *"\{0,1\}\([0-9.]*\)"\{0,1\}.*/\1/p' \
          "$LAB_INVENTORY"/group_vars/all/*.yml 2>/dev/null | head -n 1)"
      fi
      python -u "$root/lab/artifacts/build.py" ${k8s_version:+--kubernetes "$k8s_version"} 2>&1 \
        | tee "$artifacts_log" || rc=$?
      if [ "$rc" -ne 0 ]; then
        echo "error: the artifact builder (lab/artifacts/build.py) failed with exit code $rc (log: $artifacts_log):" >&2
        grep -E 'FAILED|failed:|[Ee]rror' "$artifacts_log" | tail -20 >&2 || tail -20 "$artifacts_log" >&2
        exit 1
      fi
      step "artifacts step took $(secs "$t") s"
    fi
    step "bringing up mirror and nodes from $LAB_INVENTORY"
    t=$(date +%s)
    playbook up
    step "lab playbook took $(secs "$t") s"
    step "checking that every node answers over SSH"
    ansible -i "$LAB_INVENTORY" --playbook-dir "$root/playbooks" all -m ansible.builtin.ping
    if [ -z "${LAB_SKIP_SITE:-}" ]; then
      step "running playbooks/site.yml on the lab"
      t=$(date +%s)
      # shellcheck disable=SC2086  # LAB_SITE_ARGS holds several words
      ansible-playbook -i "$LAB_INVENTORY" "$root/playbooks/site.yml" ${LAB_SITE_ARGS:-}
      step "site.yml took $(secs "$t") s"
    fi
    step "up in $(secs "$t0") s"
    ;;
  down)
    playbook down
    ;;
  status)
    playbook status
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
