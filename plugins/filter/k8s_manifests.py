# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter normaldance.platform.k8s_dry_runnable (documented in k8s_dry_runnable.yml)."""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def k8s_dry_runnable(definitions, namespaces):
    """Keep the objects the API server can dry-run: cluster-scoped ones and those in an existing namespace."""
    if not isinstance(namespaces, (list, tuple, set)):
        raise AnsibleFilterError("k8s_dry_runnable: the namespaces must be a list of names")
    existing = set(namespaces)
    kept = []
    for item in definitions or []:
        if not isinstance(item, Mapping):
            raise AnsibleFilterError("k8s_dry_runnable: every definition must be a mapping, got %r" % (item,))
        namespace = (item.get("metadata") or {}).get("namespace")
        if namespace is None or namespace in existing:
            kept.append(item)
    return kept


class FilterModule:
    """Filters over lists of Kubernetes manifests."""

    def filters(self):
        return {"k8s_dry_runnable": k8s_dry_runnable}
