#!/usr/bin/env bash
# Build (or reuse) the lab node image.
#
#   lab/node-image/build.sh [--authorized-key FILE.pub] [--image NAME]
#
# 1. The Debian rootfs is made with `debootstrap --variant=minbase` from
#    packages.txt plus the files under rootfs/, and cached as a tarball named
#    after a hash of that recipe under ${ND_LAB_CACHE}/node-image/. A second
#    run with the same recipe reuses the tarball.
# 2. The tarball, plus /root/.ssh/authorized_keys holding the lab public key,
#    is imported with `podman import` as NAME (entry point
#    lab-node-entrypoint, CMD /lib/systemd/systemd). The
#    image carries labels with the recipe hash and the key fingerprint; when
#    both match, nothing is done.
#
# The last line printed is `RESULT=unchanged`, `RESULT=imported` or
# `RESULT=built` (rootfs rebuilt and imported), for callers that report change.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${ND_LAB_CACHE:-/var/cache/normaldance-lab}/node-image"
image="${LAB_NODE_IMAGE:-localhost/normaldance/lab-node:bookworm}"
suite="bookworm"
mirror="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
key=""

while [ $# -gt 0 ]; do
  case "$1" in
    --authorized-key) key="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "error: unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "error: the lab node image is built as root (debootstrap, rootful podman)" >&2
  exit 1
fi

packages="$(grep -v -e '^#' -e '^[[:space:]]*$' "$here/packages.txt" | tr '\n' ',' | sed 's/,$//')"

# The recipe: this script, the package list, the overlay files, the suite and
# the mirror, by content, wherever the checkout lies. Any change to one of
# them gives a new tarball.
recipe_hash="$(
  {
    printf 'suite=%s\nmirror=%s\npackages=%s\n' "$suite" "$mirror" "$packages"
    # Read from stdin: the checkout's path is no part of the recipe (a clean
    # clone elsewhere reuses the cached rootfs).
    sha256sum <"$here/build.sh"
    (cd "$here/rootfs" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    (cd "$here/rootfs" && find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %a')
  } | sha256sum | cut -c1-16
)"
tarball="$cache/rootfs-$suite-$recipe_hash.tar"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

result=unchanged
if [ ! -s "$tarball" ]; then
  echo "==> node image: building rootfs $suite ($recipe_hash) with debootstrap, about a minute"
  start=$(date +%s)
  work="$(mktemp -d "$cache/build.XXXXXX")"
  # --one-file-system: never descend into what debootstrap mounted in the
  # target (proc, sys) should it stop half-way.
  trap 'rm -rf --one-file-system "$work"' EXIT
  mkdir -p "$cache/debs"
  debootstrap --variant=minbase --cache-dir="$cache/debs" \
    --include="$packages" "$suite" "$work/rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || {
      tail -n 30 "$work/debootstrap.log" >&2
      echo "error: debootstrap failed (full log above)" >&2
      exit 1
    }
  r="$work/rootfs"
  # Overlay: sshd drop-ins, apt settings, the entry point.
  cp -a "$here/rootfs/." "$r/"
  chown -R 0:0 "$r/etc/systemd/system" "$r/etc/ssh/sshd_config.d" \
    "$r/etc/apt/apt.conf.d" "$r/usr/local/sbin"
  # Units that have no meaning in a container.
  for unit in getty@tty1.service console-getty.service systemd-remount-fs.service \
              systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer; do
    ln -sf /dev/null "$r/etc/systemd/system/$unit"
  done
  # Every node must get its own identity: no baked host keys, no machine-id.
  rm -f "$r"/etc/ssh/ssh_host_*
  : >"$r/etc/machine-id"
  rm -f "$r/var/lib/dbus/machine-id"
  : >"$r/etc/hostname"
  cat >"$r/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
  install -d -m 0700 "$r/root/.ssh"
  # Keep the image small: package lists and downloaded packages go.
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb
  tar --numeric-owner --xattrs -C "$r" -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$tarball"
  rm -rf "$work"
  trap - EXIT
  # Older tarballs of other recipes are no longer used.
  find "$cache" -maxdepth 1 -name "rootfs-$suite-*.tar" ! -name "$(basename "$tarball")" -delete
  echo "==> node image: rootfs built in $(( $(date +%s) - start )) s, $(du -m "$tarball" | cut -f1) MB"
  result=built
else
  echo "==> node image: reusing cached rootfs $tarball"
fi

key_fp="none"
if [ -n "$key" ]; then
  key_fp="$(ssh-keygen -l -E sha256 -f "$key" | awk '{print $2}')"
fi

current="$(podman image inspect --format '{{index .Labels "normaldance.lab.recipe"}} {{index .Labels "normaldance.lab.key"}}' "$image" 2>/dev/null || true)"
if [ "$result" = unchanged ] && [ "$current" = "$recipe_hash $key_fp" ]; then
  echo "==> node image: $image is up to date (recipe $recipe_hash)"
  echo "RESULT=unchanged"
  exit 0
fi

old_id="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
echo "==> node image: importing $image"
start=$(date +%s)
staging="$(mktemp -d "$cache/import.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
cp "$tarball" "$staging/rootfs.tar"
if [ -n "$key" ]; then
  install -d -m 0700 "$staging/add/root/.ssh"
  install -m 0600 "$key" "$staging/add/root/.ssh/authorized_keys"
  tar --numeric-owner --owner=0 --group=0 -C "$staging/add" -rf "$staging/rootfs.tar" ./root/.ssh/authorized_keys
fi
# The image is labelled normaldance.lab.image (not normaldance.lab, which
# marks the objects `lab-down` removes: image labels are copied to containers).
podman import \
  --change 'ENTRYPOINT ["/usr/local/sbin/lab-node-entrypoint"]' \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change 'LABEL normaldance.lab.image=node' \
  --change "LABEL normaldance.lab.recipe=$recipe_hash" \
  --change "LABEL normaldance.lab.key=$key_fp" \
  --message "normaldance lab node, Debian $suite, recipe $recipe_hash" \
  "$staging/rootfs.tar" "$image" >/dev/null
rm -rf "$staging"
trap - EXIT
# The previous import is no longer tagged: drop it unless a container uses it.
if [ -n "$old_id" ] && [ -z "$(podman image inspect --format '{{.RepoTags}}' "$old_id" 2>/dev/null | tr -d '[]')" ]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true
fi
echo "==> node image: imported in $(( $(date +%s) - start )) s"
[ "$result" = built ] || result=imported
echo "RESULT=$result"
