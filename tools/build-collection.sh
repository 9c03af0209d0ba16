#!/usr/bin/env bash
# Build the collection tarball and check that it holds what a user needs
# (meta/, plugins/, roles/, playbooks/) and nothing that build_ignore must
# keep out (inventories, tests, lab data, caches, virtual environments).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out=$root/build/dist
rm -rf "$out"; mkdir -p "$out"
"$venv/bin/ansible-galaxy" collection build --force --output-path "$out" .
tarball=$(ls "$out"/normaldance-platform-*.tar.gz)
listing=$(tar -tzf "$tarball")
bad=$(grep -E '^(inventories|tests|lab|tools|requirements|extensions|\.venv|\.cache|\.ci|\.git|collections|build)(/|$)' <<<"$listing" || true)
if [ -n "$bad" ]; then
  echo "error: $tarball contains paths that build_ignore must exclude:" >&2
  echo "$bad" | head -20 >&2
  exit 1
fi
for need in MANIFEST.json FILES.json meta/runtime.yml README.md; do
  grep -qx "$need" <<<"$listing" || { echo "error: $tarball lacks $need" >&2; exit 1; }
done
size=$(du -h "$tarball" | cut -f1)
echo "built $tarball ($size, $(wc -l <<<"$listing") entries): no inventories, tests, lab data or caches"
# A user installs it: the installed collection must load.
inst=$root/build/install-check
rm -rf "$inst"
ANSIBLE_COLLECTIONS_PATH=$inst "$venv/bin/ansible-galaxy" collection install --offline --no-deps -p "$inst" "$tarball" >/dev/null
ANSIBLE_COLLECTIONS_PATH=$inst "$venv/bin/ansible-doc" --list normaldance.platform >/dev/null
echo "installed from the tarball and listed its plugins with ansible-doc"
