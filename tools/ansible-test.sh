#!/usr/bin/env bash
# Run ansible-test on a copy of the collection laid out as ansible-test
# expects (ansible_collections/<namespace>/<name>), with the offline pip
# bootstrap stand-in in place. Usage: tools/ansible-test.sh sanity [args]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/normaldance-ansible-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/normaldance/platform
python=$("$venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')

# Offline stand-in for every pip version this ansible-test may ask for.
pip_versions=$("$venv/bin/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(" ".join(sorted(set(re.findall(r"pip='([0-9.]+)'", src.read_text())))))
PY
)
mkdir -p ~/.ansible/test/cache
for v in $pip_versions; do
  cp "$root/tools/get_pip_standin.py" ~/.ansible/test/cache/"get_pip_${v//./_}.py"
done

# Copy only what git tracks (plus new, not ignored files), as a clean clone has.
rm -rf "$dest"; mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z) | rsync -a --from0 --files-from=- "$root/" "$dest/"
# ansible-test needs a git repository (or none) to list files; give it one.
(cd "$dest" && rm -rf .git && git init -q && git add -A >/dev/null)

cd "$dest"
cmd=$1; shift
case "$cmd" in
  sanity) "$venv/bin/ansible-test" sanity --python "$python" --venv --color no "$@" ;;
  *) "$venv/bin/ansible-test" "$cmd" --python "$python" --venv --color no "$@" ;;
esac
