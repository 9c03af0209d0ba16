#!/usr/bin/env bash
# Run every Molecule scenario of the collection (extensions/molecule/*/),
# or the ones named as arguments:
#
#   tools/molecule.sh                 molecule test --all
#   tools/molecule.sh lab_node ...    molecule test -s lab_node ...
#
# The scenarios share extensions/molecule/config.yml and run on the lab node
# image; it is built here when missing (lab/node-image/build.sh, cached).
set -euo pipefail
# Molecule finds collection scenarios and the shared config.yml only when it
# runs from the collection root (the directory holding galaxy.yml): lib.sh
# makes it the working directory.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "error: the Molecule instances are rootful podman containers: run as root" >&2
  exit 1
fi

# Host podman settings and the node image, as for the lab. The lab key is
# authorized in the image; Molecule itself connects through podman.
key="$root/lab/.state/ssh/id_ed25519"
if [ ! -f "$key" ]; then
  install -d -m 0700 "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C normaldance-lab -f "$key"
fi
if ! grep -q '^runtime *= *"runc"' /etc/containers/containers.conf 2>/dev/null; then
  step "configuring host podman (lab/playbooks/vars/lab.yml)"
  ansible-playbook "$root/lab/playbooks/host.yml"
fi
"$root/lab/node-image/build.sh" --authorized-key "$key.pub" | grep -v '^RESULT='

rc=0
start=$(date +%s)
if [ $# -eq 0 ]; then
  molecule test --all || rc=$?
else
  for scenario in "$@"; do
    molecule test -s "$scenario" || rc=$?
  done
fi
step "finished in $(secs "$start") s, exit code $rc"
exit "$rc"
