# shellcheck shell=bash
# What the scripts in tools/ share. Each sources it right after
# `set -euo pipefail`:
#
#   # shellcheck source=tools/lib.sh
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sets
#   root    the checkout (the directory that holds galaxy.yml), which becomes
#           the working directory;
#   venv    the toolchain: $VENV, or .venv in the checkout;
# and exports PATH with the toolchain's bin/ first and ANSIBLE_CONFIG, the
# checkout's ansible.cfg. Helpers:
#   step TEXT...         prints "==> NAME: TEXT", NAME being the script's
#                        name without .sh (lab, molecule, test-cluster, ...);
#   secs START           the seconds since START, a `date +%s` value;
#   recap_unchanged LOG  fails unless every host in the PLAY RECAP of the
#                        ansible-playbook log LOG shows changed=0, failed=0
#                        and unreachable=0 (tools/recap_unchanged.py);
#   rerun_and_check LOG CHECK_LOG "CHECK_ARGS" COMMAND...
#                        runs COMMAND (an ansible-playbook run on a converged
#                        cluster) and COMMAND CHECK_ARGS at the same time,
#                        into LOG and CHECK_LOG; fails unless both succeed
#                        and recap_unchanged holds for each. Call it as
#                        `rerun_and_check ... || exit 1`.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
venv="${VENV:-$root/.venv}"
export PATH="$venv/bin:$PATH"
export ANSIBLE_CONFIG="$root/ansible.cfg"

step_name="$(basename "$0" .sh)"

step() { echo "==> $step_name: $*"; }
secs() { echo $(( $(date +%s) - $1 )); }
recap_unchanged() { python3 "$root/tools/recap_unchanged.py" "$1"; }

# ND_MITOGEN=1 runs Ansible with mitogen's strategy (mitogen is in the pinned
# toolchain): connections and the Python interpreter on each node are kept
# for the whole run, which about halves a no-op site.yml run on the lab
# (docs/benchmarks.md). The plain strategy stays the default.
if [ -n "${ND_MITOGEN:-}" ]; then
  mitogen_dir="$("$venv/bin/python" -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')"
  export ANSIBLE_STRATEGY_PLUGINS="$mitogen_dir/plugins/strategy"
  export ANSIBLE_STRATEGY=mitogen_linear
fi
rerun_and_check() {
  local log=$1 check_log=$2 check_args=$3 rerun_pid check_pid rerun_rc=0 check_rc=0
  shift 3
  "$@" >"$log" 2>&1 &
  rerun_pid=$!
  # shellcheck disable=SC2086  # CHECK_ARGS is a list of options
  "$@" $check_args >"$check_log" 2>&1 &
  check_pid=$!
  wait "$rerun_pid" || rerun_rc=$?
  wait "$check_pid" || check_rc=$?
  [ "$rerun_rc" -eq 0 ] || { tail -40 "$log"; echo "$* failed (log: $log)"; return 1; }
  [ "$check_rc" -eq 0 ] || { tail -40 "$check_log"; echo "$* $check_args failed (log: $check_log)"; return 1; }
  recap_unchanged "$log" && recap_unchanged "$check_log"
}
