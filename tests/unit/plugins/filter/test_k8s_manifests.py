"""Filters k8s_dry_runnable and k8s_changes, and platform_image."""
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.normaldance.platform.plugins.filter.k8s_manifests import k8s_changes, k8s_dry_runnable
from ansible_collections.normaldance.platform.plugins.filter.platform_image import platform_image

ROOT = pathlib.Path(__file__).resolve().parents[4]

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


def test_platform_image_of_metrics_server_is_where_the_lab_pushes_it():
    # lab/artifacts pushes it as <addon registry>/metrics-server/metrics-server:<metrics_server.version>.
    versions = yaml.safe_load((ROOT / "lab" / "artifacts" / "versions.yml").read_text())
    assert platform_image("metrics-server") == "registry.k8s.io/metrics-server/metrics-server:v0.8.0"
    assert platform_image("metrics-server", "10.210.0.5:5000") == \
        "10.210.0.5:5000/metrics-server/metrics-server:" + versions["metrics_server"]["version"]
    assert "metrics-server" not in versions["on_demand"], "the lab must build the image platform_metrics deploys"


def test_traefik_image_crds_and_lab_build_name_the_same_release():
    crds = yaml.safe_load((ROOT / "roles" / "platform_ingress" / "vars" / "main.yml").read_text())["__platform_ingress_crds"]
    lab = yaml.safe_load((ROOT / "lab" / "artifacts" / "versions.yml").read_text())
    assert platform_image("traefik", "10.210.0.5:5000") == "10.210.0.5:5000/library/traefik:" + crds["version"]
    assert lab["traefik"]["version"] == crds["version"]
    assert lab["traefik"]["pypi"]["version"] == crds["version"].lstrip("v")
    assert "/" + crds["version"] + "/" in crds["upstream"] and crds["upstream"].endswith("/" + crds["file"])
    assert platform_image("keepalived", "10.210.0.5:5000") == \
        "10.210.0.5:5000/%s:%s" % (lab["keepalived"]["name"], lab["keepalived"]["tag"])


def test_keda_images_crds_and_lab_build_name_the_same_release():
    crds = yaml.safe_load((ROOT / "roles" / "platform_autoscaling" / "vars" / "main.yml").read_text())
    crds = crds["__platform_autoscaling_crds"]
    lab = yaml.safe_load((ROOT / "lab" / "artifacts" / "versions.yml").read_text())
    tag = crds["version"].lstrip("v")
    assert platform_image("keda", "10.210.0.5:5000") == "10.210.0.5:5000/kedacore/keda:" + tag
    assert platform_image("keda-metrics-apiserver") == "ghcr.io/kedacore/keda-metrics-apiserver:" + tag
    assert lab["keda"]["version"] == crds["version"]
    assert "keda" not in lab["on_demand"], "the lab must build the images platform_autoscaling deploys"
    # The role fetches exactly the files the lab publishes, by name.
    assert [f["name"] for f in crds["files"]] == [f.rsplit("/", 1)[1] for f in lab["keda"]["crd_files"]]
    assert crds["upstream"].endswith("/" + crds["version"] + "/config/crd/bases")
    assert all(len(f["sha256"]) == 64 for f in crds["files"])
