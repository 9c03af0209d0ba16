#!/usr/bin/env bash
# Run the Molecule scenarios of the collection (extensions/molecule/*/), or
# the ones named as arguments:
#
#   tools/molecule.sh                 molecule test --all, except the
#                                     scenarios that need the running lab
#   tools/molecule.sh lab_node ...    molecule test -s lab_node ...
#   tools/molecule.sh platform        the platform layer on the running lab
#   tools/molecule.sh platform_ingress
#                                     one platform role on the running lab
#   MOLECULE_ACTIONS="converge verify" tools/molecule.sh platform
#                                     only these molecule actions, in order,
#                                     instead of `molecule test`
#
# A scenario that needs the running lab (`make lab`) instead of instances of
# its own carries a file REQUIRES_LAB in its directory (its text says why):
# without arguments it is left out (molecule test --all --exclude NAME), as
# this stage may run while the lab is down; named, it runs (and fails with
# "run `make lab` first" when the lab is down). tools/test-cluster.sh runs
# the platform roles' scenarios on the converged lab.
#
# A scenario whose whole sequence another scenario repeats carries a file
# COVERED_BY naming that scenario (and saying how): without arguments it is
# left out too, to keep `make test` short; named, it runs.
#
# The scenarios share extensions/molecule/config.yml; those with instances of
# their own run on the lab node image, built here when missing
# (lab/node-image/build.sh, cached) and only when such a scenario runs.
set -euo pipefail
# ANSIBLE_INVENTORY (one inventory path) points the platform scenario at
# another cluster; Molecule runs ansible-playbook in the scenario directory,
# so a relative path is made absolute here, against the caller's directory.
if [ -n "${ANSIBLE_INVENTORY:-}" ]; then
  ANSIBLE_INVENTORY="$(realpath -m "$ANSIBLE_INVENTORY")"
  export ANSIBLE_INVENTORY
fi
# Molecule finds collection scenarios and the shared config.yml only when it
# runs from the collection root (the directory holding galaxy.yml): lib.sh
# makes it the working directory.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "error: the Molecule instances and the lab are rootful podman containers: run as root" >&2
  exit 1
fi

# The platform scenario uses the collection through this checkout's link
# (extensions/molecule/platform/molecule.yml).
if [ ! -e "$root/.cache/collections/ansible_collections/normaldance/platform" ]; then
  echo "error: .cache/collections/ansible_collections/normaldance/platform is missing: run make collection-link" >&2
  exit 1
fi

requires_lab() { [ -e "extensions/molecule/$1/REQUIRES_LAB" ]; }
covered_by() { [ -e "extensions/molecule/$1/COVERED_BY" ] && head -1 "extensions/molecule/$1/COVERED_BY"; }

# The scenarios to run, and whether one of them has instances of its own.
exclude=()
instances=""
if [ $# -eq 0 ]; then
  for dir in extensions/molecule/*/; do
    name="$(basename "$dir")"
    [ -e "$dir/molecule.yml" ] || continue
    if requires_lab "$name"; then
      step "leaving out $name: it needs the running lab (run it with tools/molecule.sh $name)"
      exclude+=(--exclude "$name")
    elif by="$(covered_by "$name")"; then
      step "leaving out $name: $by (run it with tools/molecule.sh $name)"
      exclude+=(--exclude "$name")
    else
      instances=1
    fi
  done
else
  for name in "$@"; do
    requires_lab "$name" || instances=1
  done
fi

# Host podman settings and the node image, as for the lab, for scenarios with
# instances. The lab key is authorized in the image; Molecule itself connects
# through podman.
if [ -n "$instances" ]; then
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
fi

rc=0
start=$(date +%s)
if [ $# -eq 0 ]; then
  molecule test --all "${exclude[@]}" || rc=$?
else
  for scenario in "$@"; do
    if [ -n "${MOLECULE_ACTIONS:-}" ]; then
      for action in $MOLECULE_ACTIONS; do
        step "molecule $action -s $scenario"
        molecule "$action" -s "$scenario" || { rc=$?; break; }
      done
    else
      molecule test -s "$scenario" || rc=$?
    fi
  done
fi
step "finished in $(secs "$start") s, exit code $rc"
exit "$rc"
