"""End-to-end checks of the platform base that site.yml applied on the lab.

As a user of the cluster would see it through the admin kubeconfig: the
namespaces with their Pod Security level, quota and container defaults; a
pod that breaks the level refused with the admission message; default deny
between namespaces until a policy allows the flow, DNS open all along; a
claim on the default StorageClass bound on the pod's node, its data kept
when the pod is deleted and when the node is restarted.

Run against a running lab (`make lab`). Without one they are skipped,
unless ND_LAB_REQUIRED is set, in which case a missing lab is a failure.
"""
import json
import os
import pathlib
import subprocess
import time
import uuid

import pytest

import lablib

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = lablib.Inventory(os.environ.get("LAB_INVENTORY", ROOT / "inventories" / "lab" / "hosts.yml"))
ECHO_IMAGE = os.environ.get("ND_ECHO_IMAGE", "10.210.0.5:5000/normaldance/echo:1.0.0")
APP_NAMESPACE = "development"  # the lab's environment is lab: the development namespace
PLATFORM_NAMESPACES = (APP_NAMESPACE, "monitoring", "database", "networking", "security", "storage", "keda")

lablib.skip_unless_lab(INVENTORY)

from kubernetes import client, config  # noqa: E402  (only needed when a cluster exists)
from kubernetes.client.rest import ApiException  # noqa: E402

SUFFIX = uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def api():
    config.load_kube_config(config_file=str(INVENTORY.kubeconfig))
    return client.CoreV1Api()


def _pod_body(name, labels, node=None, volume_claim=None, privileged=False):
    mounts, volumes = [], []
    if volume_claim:
        mounts = [client.V1VolumeMount(name="data", mount_path="/data")]
        volumes = [client.V1Volume(name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
            claim_name=volume_claim))]
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(
            # Through the scheduler (not nodeName): a WaitForFirstConsumer
            # claim is bound on the node the scheduler picks.
            node_selector={"kubernetes.io/hostname": node} if node else None,
            termination_grace_period_seconds=1,
            containers=[client.V1Container(
                name="echo", image=ECHO_IMAGE,
                env=[client.V1EnvVar(name="POD_NAME", value=name)],
                ports=[client.V1ContainerPort(container_port=8080)],
                volume_mounts=mounts,
                security_context=client.V1SecurityContext(privileged=True) if privileged else None,
            )],
            volumes=volumes or None,
        ),
    )


def _ready_pod(api, namespace, body, timeout=180):
    api.create_namespaced_pod(namespace, body)
    name = body.metadata.name

    def ready():
        pod = api.read_namespaced_pod(name, namespace)
        statuses = pod.status.container_statuses or []
        return pod if statuses and all(s.ready for s in statuses) else None

    return lablib.wait(ready, timeout=timeout, what=f"pod {namespace}/{name} to be ready")


def _delete_pod(api, namespace, name):
    try:
        api.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    except ApiException as exc:
        if exc.status != 404:
            raise

    def gone():
        try:
            api.read_namespaced_pod(name, namespace)
        except ApiException as exc:
            return exc.status == 404
        return False

    lablib.wait(gone, timeout=120, what=f"pod {namespace}/{name} to be deleted")


def _exec(api, namespace, pod, script):
    return lablib.pod_exec(api, namespace, pod, script)


def _http_get(api, namespace, from_pod, host, port=8080, timeout=3):
    return lablib.pod_http_get(api, namespace, from_pod, host, port, timeout)


def test_namespaces_carry_pod_security_quota_and_defaults(api):
    for name in PLATFORM_NAMESPACES:
        labels = api.read_namespace(name).metadata.labels
        assert labels.get("app.kubernetes.io/managed-by") == "normaldance.platform", (name, labels)
        expected = "privileged" if name in ("storage", "networking") else "baseline"
        assert labels.get("pod-security.kubernetes.io/enforce") == expected, (name, labels)
        quota = api.read_namespaced_resource_quota("platform-quota", name)
        assert set(quota.spec.hard) == {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}, quota.spec
        limits = api.read_namespaced_limit_range("platform-defaults", name).spec.limits[0]
        assert limits.default and limits.default_request, limits
        policies = {p.metadata.name for p in client.NetworkingV1Api().list_namespaced_network_policy(name).items}
        assert {"default-deny", "allow-dns"} <= policies, (name, policies)


def test_a_pod_breaking_the_level_is_refused(api):
    with pytest.raises(ApiException) as refused:
        api.create_namespaced_pod(APP_NAMESPACE, _pod_body("privileged-" + SUFFIX, {"test": "psa"}, privileged=True))
    assert refused.value.status == 403, refused.value
    message = json.loads(refused.value.body)["message"]
    assert 'violates PodSecurity "baseline:latest"' in message, message
    assert "securityContext.privileged=true" in message, message
    print(f"\nrefused in {APP_NAMESPACE}: {message}")


@pytest.fixture(scope="module")
def flows(api):
    server = _ready_pod(api, "database", _pod_body("server-" + SUFFIX, {"app": "nd-test-server"}))
    client_pod = _ready_pod(api, APP_NAMESPACE, _pod_body("client-" + SUFFIX, {"app": "nd-test-client"}))
    yield server, client_pod
    net = client.NetworkingV1Api()
    for namespace, name in (("database", "nd-test-allow-in"), (APP_NAMESPACE, "nd-test-allow-out")):
        try:
            net.delete_namespaced_network_policy(name, namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
    _delete_pod(api, "database", server.metadata.name)
    _delete_pod(api, APP_NAMESPACE, client_pod.metadata.name)


def test_dns_is_open_under_default_deny(api, flows):
    _server, client_pod = flows
    out = _exec(api, APP_NAMESPACE, client_pod.metadata.name,
                "getent hosts kubernetes.default.svc.cluster.local || echo LOOKUP-FAILED")
    assert "LOOKUP-FAILED" not in out and out.strip(), out


def test_default_deny_until_a_policy_allows(api, flows):
    server, client_pod = flows
    target = server.status.pod_ip
    # kube-network-policies learns a new pod through its informers: the
    # first packets of a pod created a moment ago can reach it before the
    # agent knows it (seen once on a loaded lab, right after the pods were
    # ready). Wait until the flow is refused, then it must stay refused.
    started = time.monotonic()
    through = []

    def refused():
        if "CONNECT-FAILED" in _http_get(api, APP_NAMESPACE, client_pod.metadata.name, target):
            return True
        through.append(round(time.monotonic() - started, 1))
        return False

    lablib.wait(refused, timeout=30, interval=1, what=f"default deny of {APP_NAMESPACE} -> database")
    print(f"\ndefault deny: {len(through)} attempt(s) got through before the first refusal"
          f" (at {through} s); refused {time.monotonic() - started:.1f} s after the first try began (3 s connect timeout)")
    for _attempt in range(3):
        out = _http_get(api, APP_NAMESPACE, client_pod.metadata.name, target)
        assert "CONNECT-FAILED" in out, f"{APP_NAMESPACE} reached a pod in database under default deny: {out}"
    net = client.NetworkingV1Api()
    app = client.V1LabelSelector(match_labels={"kubernetes.io/metadata.name": APP_NAMESPACE})
    database = client.V1LabelSelector(match_labels={"kubernetes.io/metadata.name": "database"})
    port = [client.V1NetworkPolicyPort(port=8080, protocol="TCP")]
    net.create_namespaced_network_policy("database", client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="nd-test-allow-in"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "nd-test-server"}), policy_types=["Ingress"],
            ingress=[client.V1NetworkPolicyIngressRule(_from=[client.V1NetworkPolicyPeer(namespace_selector=app)],
                                                       ports=port)])))
    net.create_namespaced_network_policy(APP_NAMESPACE, client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="nd-test-allow-out"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "nd-test-client"}), policy_types=["Egress"],
            egress=[client.V1NetworkPolicyEgressRule(to=[client.V1NetworkPolicyPeer(namespace_selector=database)],
                                                     ports=port)])))
    started = time.monotonic()

    def answered():
        text = _http_get(api, APP_NAMESPACE, client_pod.metadata.name, target)
        return text if "200" in text else None

    out = lablib.wait(answered, timeout=60, what="the allowed flow development -> database")
    print(f"\nflow allowed {time.monotonic() - started:.1f} s after the two policies were created")
    assert "200" in out, out


def test_a_claim_binds_and_keeps_its_data(api):
    workers = INVENTORY.hosts("workers")
    node = workers[0] if workers else INVENTORY.hosts("control_plane")[0]
    namespace, claim = APP_NAMESPACE, "data-" + SUFFIX
    api.create_namespaced_persistent_volume_claim(namespace, client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=claim),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1VolumeResourceRequirements(requests={"storage": "64Mi"}))))
    try:
        assert api.read_namespaced_persistent_volume_claim(claim, namespace).spec.storage_class_name == "local-path"
        writer = "writer-" + SUFFIX
        started = time.monotonic()
        _ready_pod(api, namespace, _pod_body(writer, {"app": "nd-test-storage"}, node=node, volume_claim=claim))
        bound = api.read_namespaced_persistent_volume_claim(claim, namespace)
        assert bound.status.phase == "Bound", bound.status
        print(f"\nclaim {claim} bound and its pod ready on {node} in {time.monotonic() - started:.1f} s")
        token = uuid.uuid4().hex
        _exec(api, namespace, writer, f"echo {token} > /data/token && sync")
        _delete_pod(api, namespace, writer)

        reader = "reader-" + SUFFIX
        _ready_pod(api, namespace, _pod_body(reader, {"app": "nd-test-storage"}, node=node, volume_claim=claim))
        assert _exec(api, namespace, reader, "cat /data/token").strip() == token
        _delete_pod(api, namespace, reader)

        # The node restarts (its container is stopped and started, as the
        # HA test does): the data is still there when it is Ready again.
        started = time.monotonic()
        subprocess.run(["podman", "stop", "--time", "10", node], check=True, capture_output=True, timeout=120)
        subprocess.run(["podman", "start", node], check=True, capture_output=True, timeout=120)

        def node_ready():
            status = [c for c in api.read_node(node).status.conditions if c.type == "Ready"][0]
            return status.status == "True"

        lablib.wait(node_ready, timeout=300, what=f"{node} to be Ready again after its restart")
        print(f"{node} restarted and Ready again in {time.monotonic() - started:.1f} s")
        after = "after-" + SUFFIX
        _ready_pod(api, namespace, _pod_body(after, {"app": "nd-test-storage"}, node=node, volume_claim=claim),
                   timeout=300)
        assert _exec(api, namespace, after, "cat /data/token").strip() == token
        _delete_pod(api, namespace, after)
    finally:
        api.delete_namespaced_persistent_volume_claim(claim, namespace)
