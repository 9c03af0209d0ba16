# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters normaldance.platform.k8s_dry_runnable and k8s_changes (documented in their .yml files)."""

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


# Fields the API server sets on every write; a change in them is not a change of the object.
_SERVER_FIELDS = {("metadata", "managedFields"), ("metadata", "resourceVersion"), ("metadata", "generation"),
                  ("metadata", "uid"), ("metadata", "creationTimestamp"), ("status",)}


def _changed_paths(before, after, path=()):
    if path in _SERVER_FIELDS or path[:1] == ("status",):
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        paths = []
        for key in sorted(set(before) | set(after), key=str):
            paths.extend(_changed_paths(before.get(key), after.get(key), path + (str(key),)))
        return paths
    if before == after:
        return []
    return [(".".join(path) if path else "(whole object)", before, after)]


def _scalar(value):
    return value is None or isinstance(value, (str, int, float, bool))


def _describe(item):
    diff = item.get("diff") or {}
    obj = item.get("result") or diff.get("after") or {}
    meta = obj.get("metadata") or {}
    name = "%s %s%s" % (obj.get("kind", "object"), meta.get("namespace") + "/" if meta.get("namespace") else "",
                        meta.get("name", "?"))
    before, after = diff.get("before"), diff.get("after")
    if not before:
        return "%s: created" % name
    changes = []
    for path, old, new in _changed_paths(before, after or {}):
        # Values of Secrets are never shown; long or nested values by their path only.
        if obj.get("kind") != "Secret" and _scalar(old) and _scalar(new) and len(repr(old) + repr(new)) < 120:
            shown = ["(none)" if value is None else repr(value) for value in (old, new)]
            changes.append("%s %s -> %s" % (path, shown[0], shown[1]))
        else:
            changes.append(path)
    return "%s: %s" % (name, ", ".join(changes) if changes else "changed")


def k8s_changes(result):
    """One line per changed object of a kubernetes.core.k8s result (one definition or a list)."""
    if not isinstance(result, Mapping):
        raise AnsibleFilterError("k8s_changes: expects the registered result of kubernetes.core.k8s")
    inner = result.get("result") or {}
    items = inner.get("results") if isinstance(inner, Mapping) and "results" in inner else [result]
    return [_describe(item) for item in items if isinstance(item, Mapping) and item.get("changed")]


class FilterModule:
    """Filters over Kubernetes manifests and the results of applying them."""

    def filters(self):
        return {"k8s_dry_runnable": k8s_dry_runnable, "k8s_changes": k8s_changes}
