# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes versions: parsing, the supported range and upgrade skew."""

import re

# The one place that says which Kubernetes releases the collection supports:
# from the first version (inclusive) up to every patch of the last minor.
SUPPORTED_KUBERNETES = {"minimum": (1, 35, 0), "maximum_minor": (1, 36)}

# The etcd release kubeadm runs for each supported minor version (the files
# mirror holds these builds of etcdctl and etcdutl). One entry per minor.
KUBEADM_ETCD = {(1, 35): "3.6.6", (1, 36): "3.6.8"}

_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


class VersionError(ValueError):
    """Raised when a string is not an X.Y.Z version."""


def parse_version(value):
    """Return ``(major, minor, patch)`` for ``'1.36.0'``; no ``v`` prefix, no suffix."""
    if not isinstance(value, str):
        raise VersionError("a version must be a quoted string")
    match = _VERSION.fullmatch(value)
    if not match:
        raise VersionError("not of the form X.Y.Z")
    return tuple(int(part) for part in match.groups())


def supported_range_text():
    """Describe the supported range, e.g. ``1.35.0 to 1.36.x``."""
    low = SUPPORTED_KUBERNETES["minimum"]
    high = SUPPORTED_KUBERNETES["maximum_minor"]
    return "%d.%d.%d to %d.%d.x" % (low + high)


def is_supported(version):
    """Tell whether the parsed ``version`` lies in the supported range."""
    return SUPPORTED_KUBERNETES["minimum"] <= version and version[:2] <= SUPPORTED_KUBERNETES["maximum_minor"]


def skew_problem(current, target):
    """Return why upgrading ``current`` to ``target`` is not allowed, or None.

    Kubernetes upgrades go forward and one minor release at a time.
    """
    if target < current:
        return "a downgrade is not supported"
    if target[0] != current[0]:
        return "a change of major version is not supported"
    if target[1] - current[1] > 1:
        return "an upgrade may move at most one minor version"
    return None


def kubeadm_etcd_version(version):
    """The etcd version kubeadm runs for the minor of ``version`` (``'1.36.2'``, ``'1.36'``), or None when unknown."""
    if not isinstance(version, str):
        return None
    minor = version.split(".")[:2]
    if len(minor) != 2 or not all(part.isdigit() for part in minor):
        return None
    return KUBEADM_ETCD.get((int(minor[0]), int(minor[1])))
