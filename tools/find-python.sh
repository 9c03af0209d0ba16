#!/usr/bin/env bash
# Print the newest usable controller Python (3.13, 3.12 or 3.11).
# Looks on PATH first, then in pyenv's versions directory, and checks that
# each candidate really runs (pyenv shims of inactive versions do not).
set -u
for v in 3.14 3.13 3.12 3.11; do
  for cand in "python$v" /usr/bin/python$v /usr/local/bin/python$v \
              "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v"*/bin/python"$v"; do
    [ -n "$cand" ] || continue
    if "$cand" -c 'import sys, venv, ensurepip' >/dev/null 2>&1; then
      "$cand" -c 'import sys; print(sys.executable)'
      exit 0
    fi
  done
done
echo "error: no Python 3.11, 3.12 or 3.13 found; install one (ansible-core needs >= 3.11)" >&2
exit 1
