# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters k8s_not_ready and k8s_missing_ready_pods (documented in their sidecar YAML files).

One rule for "Ready" in the whole collection: an object is Ready when its
``status.conditions`` holds ``type: Ready`` with ``status: "True"``.
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def is_ready(resource):
    """True when the object's Ready condition is "True"."""
    if not isinstance(resource, Mapping):
        raise AnsibleFilterError("k8s_ready: expected Kubernetes objects (mappings), got %r" % (resource,))
    conditions = (resource.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and str(c.get("status")) == "True" for c in conditions)


def k8s_not_ready(resources, names=None):
    """Names of the objects that are not Ready.

    With ``names``, the result lists each wanted name that is missing from
    ``resources`` or not Ready, in the order of ``names``.
    """
    by_name = {}
    for resource in resources or []:
        by_name[(resource.get("metadata") or {}).get("name")] = is_ready(resource)
    if names is None:
        return [name for name, ready in by_name.items() if not ready]
    return [name for name in names if not by_name.get(name, False)]


def k8s_missing_ready_pods(pods, nodes, apps, label="app.kubernetes.io/name"):
    """``"<app> on <node>"`` for each app of ``apps`` without a Ready pod on a node of ``nodes``.

    Pods being deleted do not count.
    """
    ready = set()
    for pod in pods or []:
        metadata = pod.get("metadata") or {}
        if metadata.get("deletionTimestamp") or not is_ready(pod):
            continue
        ready.add(((metadata.get("labels") or {}).get(label), (pod.get("spec") or {}).get("nodeName")))
    return ["%s on %s" % (app, node) for app in apps for node in nodes if (app, node) not in ready]


class FilterModule:
    """Readiness of Kubernetes objects."""

    def filters(self):
        return {"k8s_not_ready": k8s_not_ready, "k8s_missing_ready_pods": k8s_missing_ready_pods}
