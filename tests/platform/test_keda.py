"""End-to-end checks of the event-driven autoscaling that platform_autoscaling deployed on the lab.

As a user of the cluster would see it through the admin kubeconfig: the
KEDA operator and metrics API server ready, the APIService
v1beta1.external.metrics.k8s.io Available; then a ScaledObject with the
kubernetes-workload trigger (one pod of the target per work item) scales a
Deployment from 0 to 2 pods when two work-item pods appear, the external
metric reads 2, and the Deployment goes back to 0 when the work items go.
The times it took are printed.

Run against a running lab (`make lab`). Without one they are skipped,
unless ND_LAB_REQUIRED is set, in which case a missing lab is a failure.
"""
import os
import pathlib
import time
import uuid

import pytest

import lablib

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = lablib.Inventory(os.environ.get("LAB_INVENTORY", ROOT / "inventories" / "lab" / "hosts.yml"))
ECHO_IMAGE = os.environ.get("ND_ECHO_IMAGE", "10.210.0.5:5000/normaldance/echo:1.0.0")
APP_NAMESPACE = "development"  # the lab's environment is lab: the development namespace
KEDA_NAMESPACE = "keda"
APISERVICE = "v1beta1.external.metrics.k8s.io"
WORK_ITEMS = 2
SCALE_SECONDS = 180

lablib.skip_unless_lab(INVENTORY)

from kubernetes import client, config  # noqa: E402  (only needed when a cluster exists)
from kubernetes.client.rest import ApiException  # noqa: E402

SUFFIX = uuid.uuid4().hex[:6]
NAME = "nd-keda-" + SUFFIX
WORK = "nd-work-" + SUFFIX


@pytest.fixture(scope="module")
def api():
    config.load_kube_config(config_file=str(INVENTORY.kubeconfig))
    return client.CoreV1Api()


def _available(name):
    service = client.ApiregistrationV1Api().read_api_service(name)
    found = [c for c in (service.status.conditions or []) if c.type == "Available"]
    return found[0] if found else None


@pytest.mark.usefixtures("api")  # it loads the kubeconfig
def test_keda_runs_and_serves_the_external_metrics_api():
    apps = client.AppsV1Api()
    for name in ("keda-operator", "keda-metrics-apiserver"):
        deployment = apps.read_namespaced_deployment(name, KEDA_NAMESPACE)
        assert (deployment.status.ready_replicas or 0) == deployment.spec.replicas >= 1, (name, deployment.status)
    condition = _available(APISERVICE)
    assert condition is not None and condition.status == "True", condition
    # The operator wrote its CA into the APIService (the role leaves that field to it).
    assert client.ApiregistrationV1Api().read_api_service(APISERVICE).spec.ca_bundle


def _target():
    labels = {"app": NAME}
    container = client.V1Container(name="echo", image=ECHO_IMAGE,
                                   resources=client.V1ResourceRequirements(requests={"cpu": "10m", "memory": "16Mi"},
                                                                           limits={"cpu": "50m", "memory": "32Mi"}))
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=NAME, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=0, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(termination_grace_period_seconds=1, containers=[container]))))


def _scaled_object():
    return {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": NAME, "namespace": APP_NAMESPACE},
        "spec": {
            "scaleTargetRef": {"name": NAME},
            "minReplicaCount": 0, "maxReplicaCount": 3,
            "pollingInterval": 2, "cooldownPeriod": 5,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                "scaleDown": {"stabilizationWindowSeconds": 5}}}},
            "triggers": [{"type": "kubernetes-workload", "metadata": {"podSelector": f"app={WORK}", "value": "1"}}],
        },
    }


def _work_item(index):
    container = client.V1Container(name="echo", image=ECHO_IMAGE,
                                   resources=client.V1ResourceRequirements(requests={"cpu": "10m", "memory": "16Mi"},
                                                                           limits={"cpu": "50m", "memory": "32Mi"}))
    return client.V1Pod(metadata=client.V1ObjectMeta(name=f"{WORK}-{index}", labels={"app": WORK}),
                        spec=client.V1PodSpec(termination_grace_period_seconds=1, containers=[container]))


@pytest.fixture(scope="module")
def scaled(api):
    apps, custom = client.AppsV1Api(), client.CustomObjectsApi()
    apps.create_namespaced_deployment(APP_NAMESPACE, _target())
    try:
        custom.create_namespaced_custom_object("keda.sh", "v1alpha1", APP_NAMESPACE, "scaledobjects", _scaled_object())
        yield apps, custom
    finally:
        deletes = [lambda: custom.delete_namespaced_custom_object("keda.sh", "v1alpha1", APP_NAMESPACE,
                                                                  "scaledobjects", NAME),
                   lambda: apps.delete_namespaced_deployment(NAME, APP_NAMESPACE)]
        deletes += [lambda i=i: api.delete_namespaced_pod(f"{WORK}-{i}", APP_NAMESPACE, grace_period_seconds=0)
                    for i in range(WORK_ITEMS)]
        for delete in deletes:
            try:
                delete()
            except ApiException as exc:
                if exc.status != 404:
                    raise


def _state(custom):
    obj = custom.get_namespaced_custom_object("keda.sh", "v1alpha1", APP_NAMESPACE, "scaledobjects", NAME)
    conditions = [f"{c['type']}={c['status']} ({c.get('reason')}: {c.get('message')})"
                  for c in obj.get("status", {}).get("conditions", [])]
    return "; ".join(conditions) or "no status"


def _replicas(apps, wanted, custom, what):
    started = time.monotonic()
    while time.monotonic() - started < SCALE_SECONDS:
        replicas = apps.read_namespaced_deployment(NAME, APP_NAMESPACE).spec.replicas or 0
        if replicas == wanted:
            return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"{what}: {replicas} pods after {SCALE_SECONDS} s, not {wanted}; the ScaledObject: "
                         f"{_state(custom)}")


def _external_metric(name):
    # The external metrics API has the shape of a namespaced custom resource
    # list (/apis/<group>/<version>/namespaces/<ns>/<metric>), so the custom
    # objects client reads it without raw calls into the generated client.
    return client.CustomObjectsApi().list_namespaced_custom_object(
        "external.metrics.k8s.io", "v1beta1", APP_NAMESPACE, name,
        label_selector=f"scaledobject.keda.sh/name={NAME}")


def test_work_items_scale_the_target_from_zero_and_back(api, scaled):
    apps, custom = scaled

    def ready():
        obj = custom.get_namespaced_custom_object("keda.sh", "v1alpha1", APP_NAMESPACE, "scaledobjects", NAME)
        return any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get("conditions", []))

    lablib.wait(ready, timeout=120, what=f"ScaledObject {NAME} Ready")
    assert (apps.read_namespaced_deployment(NAME, APP_NAMESPACE).spec.replicas or 0) == 0

    for index in range(WORK_ITEMS):
        api.create_namespaced_pod(APP_NAMESPACE, _work_item(index))
    up = _replicas(apps, WORK_ITEMS, custom, f"{NAME} scaled to {WORK_ITEMS} pods for {WORK_ITEMS} work items")
    print(f"\n0 -> {WORK_ITEMS} pods {up:.1f} s after {WORK_ITEMS} work items were created")

    obj = custom.get_namespaced_custom_object("keda.sh", "v1alpha1", APP_NAMESPACE, "scaledobjects", NAME)
    metric = obj["status"]["externalMetricNames"][0]
    values = lablib.wait(lambda: _external_metric(metric)["items"], timeout=30, what=f"external metric {metric}")
    print(f"external metric {metric}: {values[0]['value']}")
    assert values[0]["value"] == str(WORK_ITEMS), values

    for index in range(WORK_ITEMS):
        api.delete_namespaced_pod(f"{WORK}-{index}", APP_NAMESPACE, grace_period_seconds=0)
    down = _replicas(apps, 0, custom, f"{NAME} back to 0 pods once the work items are gone")
    print(f"{WORK_ITEMS} -> 0 pods {down:.1f} s after the work items were deleted")
