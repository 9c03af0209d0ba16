#!/usr/bin/env bash
# Install the Debian packages the tests and the lab use, when missing.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail
# wrk is the load generator of make bench (requests per second through the
# ingress).
# The dnsname CNI plugin lets the Molecule instances (and any podman network
# created with DNS) reach each other by name; podman only recommends it, and
# --no-install-recommends below leaves it out.
pkgs=(podman buildah skopeo runc debootstrap docker-registry uidmap
      containernetworking-plugins golang-github-containernetworking-plugin-dnsname
      openssh-client rsync curl wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
