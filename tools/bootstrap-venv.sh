#!/usr/bin/env bash
# Create (or refresh) the controller virtual environment from the pinned
# lock file that matches the interpreter: Python >= 3.12 gets ansible-core
# 2.21 (requirements/controller-py312.txt), Python 3.11 gets ansible-core
# 2.19 (requirements/controller-py311.txt).
set -euo pipefail
venv=${1:-.venv}
python=$(tools/find-python.sh)
minor=$("$python" -c 'import sys; print(sys.version_info[1])')
if [ "$minor" -ge 12 ]; then lock=requirements/controller-py312.txt; else lock=requirements/controller-py311.txt; fi
stamp="$venv/.installed-$(sha256sum "$lock" | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "==> creating $venv with $python ($lock)"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --requirement "$lock"
rm -f "$venv"/.installed-*
touch "$stamp"
echo "==> $venv ready: ansible-core $("$venv/bin/python" -c "from ansible.release import __version__; print(__version__)")"
