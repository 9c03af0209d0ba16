"""Filters k8s_dry_runnable and k8s_changes, and platform_image."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.normaldance.platform.plugins.filter.k8s_manifests import k8s_changes, k8s_dry_runnable
from ansible_collections.normaldance.platform.plugins.filter.platform_image import platform_image

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "new"}}
SC = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local-path"}}
IN_NEW = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "new"}}
IN_OLD = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "old"}}


def test_dry_runnable_keeps_cluster_objects_and_existing_namespaces():
    assert k8s_dry_runnable([NS, IN_NEW, SC, IN_OLD], ["old", "default"]) == [NS, SC, IN_OLD]


def test_dry_runnable_refuses_bad_input():
    with pytest.raises(AnsibleFilterError, match="list of names"):
        k8s_dry_runnable([NS], "old")
    with pytest.raises(AnsibleFilterError, match="mapping"):
        k8s_dry_runnable(["x"], [])


def _item(kind, name, before, after, namespace=None, changed=True):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace

    def whole(obj):
        return dict(obj, kind=kind, metadata=dict(obj.get("metadata", {}), **meta)) if obj else obj

    return {"changed": changed, "diff": {"before": whole(before), "after": whole(after)},
            "result": {"kind": kind, "metadata": meta}}


def test_changes_name_created_and_changed_fields_only():
    created = _item("Namespace", "new", {}, {})
    label = _item("Namespace", "development",
                  {"metadata": {"name": "development", "labels": {"pod-security.kubernetes.io/enforce": "baseline"},
                                "resourceVersion": "1", "managedFields": [1]}},
                  {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                                "resourceVersion": "2", "managedFields": [2]}, "status": {"phase": "Active"}})
    same = _item("ConfigMap", "c", {}, {}, namespace="x", changed=False)
    lines = k8s_changes({"changed": True, "result": {"results": [created, label, same]}})
    assert lines == [
        "Namespace new: created",
        "Namespace development: metadata.labels.pod-security.kubernetes.io/enforce 'baseline' -> 'restricted'",
    ]


def test_changes_never_show_secret_values():
    secret = _item("Secret", "s", {"metadata": {"name": "s"}, "data": {"password": "b2xk"}},
                   {"data": {"password": "bmV3"}}, namespace="security")
    assert k8s_changes(secret) == ["Secret security/s: data.password"]


def test_platform_image_reference():
    assert platform_image("local-path-provisioner") == "docker.io/rancher/local-path-provisioner:v0.0.30"
    assert platform_image("local-path-provisioner", "10.210.0.5:5000/") == \
        "10.210.0.5:5000/rancher/local-path-provisioner:v0.0.30"
    digest = "sha256:" + "a" * 64
    assert platform_image("local-path-helper", "r.example/mirror", {"local-path-helper": digest}) == \
        "r.example/mirror/library/busybox:1.37@" + digest
    with pytest.raises(AnsibleFilterError, match="unknown image 'nope'"):
        platform_image("nope")
    with pytest.raises(AnsibleFilterError, match="64 lower-case hex digits"):
        platform_image("local-path-helper", "", {"local-path-helper": "sha256:12"})
