"""End-to-end checks of the resource metrics API that platform_metrics deployed on the lab.

As a user of the cluster would see it through the admin kubeconfig: the
APIService v1beta1.metrics.k8s.io Available and the node metrics that
`kubectl top nodes` shows; a Deployment with a CPU request and a
HorizontalPodAutoscaler (autoscaling/v2, CPU 70 %, 1 to 3 pods) scaled
above one pod while one of its pods burns CPU, and back to one pod after
the load stops. The times it took are printed.

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
APISERVICE = "v1beta1.metrics.k8s.io"
# The autoscaler's bounds and the times the scaling must take at most.
MAX_REPLICAS = 3
SCALE_UP_SECONDS = 180
SCALE_DOWN_SECONDS = 180

lablib.skip_unless_lab(INVENTORY)

from kubernetes import client, config  # noqa: E402  (only needed when a cluster exists)
from kubernetes.client.rest import ApiException  # noqa: E402

SUFFIX = uuid.uuid4().hex[:6]
NAME = "nd-cpu-" + SUFFIX
# The busy loop outlives the exec (nohup, no terminal, its output nowhere)
# and writes its process id, so that it can be stopped: the echo image is
# Debian's minimal base (bash, coreutils), without procps.
START_LOAD = ("nohup bash -c 'echo $$ > /tmp/burn.pid; while :; do :; done' </dev/null >/dev/null 2>&1 & "
              "for i in 1 2 3 4 5 6 7 8 9 10; do [ -s /tmp/burn.pid ] && break; sleep 0.2; done; cat /tmp/burn.pid")
STOP_LOAD = "kill $(cat /tmp/burn.pid) && rm -f /tmp/burn.pid && echo STOPPED"


@pytest.fixture(scope="module")
def api():
    config.load_kube_config(config_file=str(INVENTORY.kubeconfig))
    return client.CoreV1Api()


def _metrics_api_available():
    service = client.ApiregistrationV1Api().read_api_service(APISERVICE)
    available = [c for c in (service.status.conditions or []) if c.type == "Available"]
    return available[0] if available else None


def _cpu_millicores(quantity):
    """A CPU quantity of the metrics API (such as 123456789n, 250u, 12m or 1) in millicores."""
    units = {"n": 1e-6, "u": 1e-3, "m": 1.0}
    if quantity[-1] in units:
        return float(quantity[:-1]) * units[quantity[-1]]
    return float(quantity) * 1000


def _memory_mib(quantity):
    units = {"Ki": 1 / 1024, "Mi": 1.0, "Gi": 1024.0}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[:-len(suffix)]) * factor
    return float(quantity) / 2 ** 20


@pytest.mark.usefixtures("api")  # it loads the kubeconfig
def test_the_metrics_api_is_available():
    condition = _metrics_api_available()
    assert condition is not None and condition.status == "True", condition


def test_node_metrics_like_kubectl_top(api):
    nodes = set(INVENTORY.hosts("k8s_cluster"))
    metrics = client.CustomObjectsApi()

    def every_node():
        items = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")["items"]
        found = {item["metadata"]["name"]: item for item in items}
        return found if nodes <= set(found) else None

    # Right after the deployment, a node appears after its first scrapes.
    found = lablib.wait(every_node, timeout=120, what=f"metrics of every node ({', '.join(sorted(nodes))})")
    print()
    for name in sorted(nodes):
        usage = found[name]["usage"]
        cpu, memory = _cpu_millicores(usage["cpu"]), _memory_mib(usage["memory"])
        print(f"{name}: cpu {cpu:.0f}m, memory {memory:.0f}Mi (window {found[name]['window']})")
        assert cpu > 0 and memory > 0, (name, usage)


def _deployment():
    container = client.V1Container(
        name="echo", image=ECHO_IMAGE,
        ports=[client.V1ContainerPort(container_port=8080)],
        # The autoscaler's utilisation is usage divided by this request; the
        # limit caps one busy loop at 4 times the request.
        resources=client.V1ResourceRequirements(requests={"cpu": "50m", "memory": "32Mi"},
                                                limits={"cpu": "200m", "memory": "64Mi"}))
    labels = {"app": NAME}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=NAME, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(termination_grace_period_seconds=1, containers=[container]))))


def _autoscaler():
    return client.V2HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name=NAME),
        spec=client.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V2CrossVersionObjectReference(api_version="apps/v1", kind="Deployment", name=NAME),
            min_replicas=1, max_replicas=MAX_REPLICAS,
            metrics=[client.V2MetricSpec(type="Resource", resource=client.V2ResourceMetricSource(
                name="cpu", target=client.V2MetricTarget(type="Utilization", average_utilization=70)))],
            behavior=client.V2HorizontalPodAutoscalerBehavior(
                scale_down=client.V2HPAScalingRules(stabilization_window_seconds=15))))


@pytest.fixture(scope="module")
def scaled(api):
    apps, autoscaling = client.AppsV1Api(), client.AutoscalingV2Api()
    apps.create_namespaced_deployment(APP_NAMESPACE, _deployment())
    try:
        autoscaling.create_namespaced_horizontal_pod_autoscaler(APP_NAMESPACE, _autoscaler())
        yield apps, autoscaling
    finally:
        for delete in (lambda: autoscaling.delete_namespaced_horizontal_pod_autoscaler(NAME, APP_NAMESPACE),
                       lambda: apps.delete_namespaced_deployment(NAME, APP_NAMESPACE, propagation_policy="Foreground")):
            try:
                delete()
            except ApiException as exc:
                if exc.status != 404:
                    raise


def _ready_pods(api):
    pods = api.list_namespaced_pod(APP_NAMESPACE, label_selector=f"app={NAME}").items
    return [p for p in pods if p.metadata.deletion_timestamp is None and p.status.container_statuses
            and all(s.ready for s in p.status.container_statuses)]


def _autoscaler_state(autoscaling):
    """What the autoscaler saw, for messages: replicas, CPU utilisation, conditions."""
    hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler(NAME, APP_NAMESPACE)
    utilisation = [m.resource.current.average_utilization for m in (hpa.status.current_metrics or [])
                   if m.resource is not None]
    conditions = [f"{c.type}={c.status} ({c.reason}: {c.message})" for c in (hpa.status.conditions or [])]
    return (f"replicas {hpa.status.current_replicas} -> {hpa.status.desired_replicas}, "
            f"cpu {utilisation or 'unknown'} %, {'; '.join(conditions)}")


def _wait_for_replicas(apps, autoscaling, wanted, timeout, what):
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        replicas = apps.read_namespaced_deployment(NAME, APP_NAMESPACE).spec.replicas
        if wanted(replicas):
            return replicas, time.monotonic() - started
        time.sleep(2)
    raise AssertionError(f"{what}: not within {timeout} s; the autoscaler: {_autoscaler_state(autoscaling)}")


def test_cpu_load_scales_out_and_back_in(api, scaled):
    apps, autoscaling = scaled
    pod = lablib.wait(lambda: _ready_pods(api), timeout=180, what=f"a ready pod of {NAME}")[0].metadata.name

    # The autoscaler has read the idle pod's usage: the metrics pipeline
    # works for this pod before the load starts, and the load is what scales it.
    def measured():
        hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler(NAME, APP_NAMESPACE)
        return any(m.resource is not None and m.resource.current.average_utilization is not None
                   for m in (hpa.status.current_metrics or []))

    lablib.wait(measured, timeout=120, what=f"the autoscaler of {NAME} to measure the CPU utilisation")
    idle = apps.read_namespaced_deployment(NAME, APP_NAMESPACE).spec.replicas
    assert idle == 1, f"{NAME} runs {idle} pods before any load; the autoscaler: {_autoscaler_state(autoscaling)}"

    burner = lablib.pod_exec(api, APP_NAMESPACE, pod, START_LOAD).strip()
    assert burner.isdigit(), f"the busy loop did not start in {pod}: {burner!r}"
    load_started = time.monotonic()
    try:
        replicas, up = _wait_for_replicas(apps, autoscaling, lambda n: n > 1, SCALE_UP_SECONDS,
                                          f"{NAME} scaled above 1 pod under CPU load")
        print(f"\nscaled out to {replicas} pods {up:.1f} s after the load started ({_autoscaler_state(autoscaling)})")
    finally:
        stopped = lablib.pod_exec(api, APP_NAMESPACE, pod, STOP_LOAD)
    assert "STOPPED" in stopped, f"the busy loop in {pod} could not be stopped: {stopped!r}"
    most = max(replicas, apps.read_namespaced_deployment(NAME, APP_NAMESPACE).spec.replicas)
    assert most <= MAX_REPLICAS

    replicas, down = _wait_for_replicas(apps, autoscaling, lambda n: n == 1, SCALE_DOWN_SECONDS,
                                        f"{NAME} back to 1 pod after the load stopped")
    print(f"back to 1 pod {down:.1f} s after the load stopped ({time.monotonic() - load_started:.1f} s "
          f"after it started; at most {most} pods)")
