"""k8s_not_ready and k8s_missing_ready_pods: one rule for Ready across the collection."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.normaldance.platform.plugins.filter.k8s_ready import (
    FilterModule,
    k8s_missing_ready_pods,
    k8s_not_ready,
)


def node(name, ready):
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {"metadata": {"name": name}, "status": {"conditions": conditions}}


def pod(app, node_name, ready, deleting=False):
    metadata = {"name": "%s-%s" % (app, node_name), "labels": {"app.kubernetes.io/name": app}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    return {"metadata": metadata, "spec": {"nodeName": node_name},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


NODES = [node("cp1", "True"), node("w1", "False"), node("w2", "Unknown"), node("w3", None),
         {"metadata": {"name": "w4"}}]


@pytest.mark.parametrize("names,expected", [
    (None, ["w1", "w2", "w3", "w4"]),
    (["cp1"], []),
    (["w2", "cp1", "gone"], ["w2", "gone"]),
    ([], []),
])
def test_not_ready(names, expected):
    assert k8s_not_ready(NODES, names) == expected


def test_not_ready_refuses_what_is_no_object():
    with pytest.raises(AnsibleFilterError):
        k8s_not_ready(["cp1"])


@pytest.mark.parametrize("pods,expected", [
    ([pod("a", "n1", True), pod("b", "n1", True), pod("a", "n2", True), pod("b", "n2", True)], []),
    ([pod("a", "n1", True), pod("b", "n1", False), pod("a", "n2", True)], ["b on n1", "b on n2"]),
    ([pod("a", "n1", True, deleting=True), pod("b", "n1", True), pod("a", "n2", True), pod("b", "n2", True)],
     ["a on n1"]),
    ([pod("a", "other", True)], ["a on n1", "a on n2", "b on n1", "b on n2"]),
    ([], ["a on n1", "a on n2", "b on n1", "b on n2"]),
])
def test_missing_ready_pods(pods, expected):
    assert k8s_missing_ready_pods(pods, ["n1", "n2"], ["a", "b"]) == expected


def test_other_label():
    pods = [{"metadata": {"labels": {"k8s-app": "x"}}, "spec": {"nodeName": "n"},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}}]
    assert k8s_missing_ready_pods(pods, ["n"], ["x"], label="k8s-app") == []


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"k8s_not_ready", "k8s_missing_ready_pods"}
