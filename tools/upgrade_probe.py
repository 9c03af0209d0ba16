"""Workload, probe and checks for tools/test-upgrade.sh (a lab test driver).

    python tools/upgrade_probe.py deploy  KUBECONFIG            Deployment (2 replicas), PDB, NodePort Service
    python tools/upgrade_probe.py probe   KUBECONFIG OUT.json   GET / through every node IP until SIGTERM
    python tools/upgrade_probe.py state   KUBECONFIG            one line per node: name kubelet unschedulable
    python tools/upgrade_probe.py fingerprint KUBECONFIG        what an upgrade changes, to compare before/after
    python tools/upgrade_probe.py expect  KUBECONFIG VERSION [NODE ...]   every (or the named) node at VERSION, none cordoned
    python tools/upgrade_probe.py cleanup KUBECONFIG

The probe runs on the controller, outside the nodes, and counts every
request that fails (connection error, timeout, non-200) per node address.
"""
import json
import signal
import sys
import time
import urllib.request

from kubernetes import client, config

NAMESPACE = "nd-upgrade-test"
IMAGE = "10.210.0.5:5000/normaldance/echo:1.0.0"
PORT = 8080  # the echo server's default listen address is :8080 (lab/artifacts/src/echo)


def api(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    return client.CoreV1Api()


def node_ips(core):
    ips = []
    for node in core.list_node().items:
        for address in node.status.addresses or []:
            if address.type == "InternalIP":
                ips.append(address.address)
    return sorted(ips)


def deploy(kubeconfig):
    core = api(kubeconfig)
    apps = client.AppsV1Api()
    policy = client.PolicyV1Api()
    try:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
    except client.ApiException as exc:
        if exc.status != 409:
            raise
    labels = {"app": "echo"}
    container = client.V1Container(
        name="echo", image=IMAGE, ports=[client.V1ContainerPort(container_port=PORT)],
        env=[client.V1EnvVar(name="POD_NAME", value_from=client.V1EnvVarSource(
            field_ref=client.V1ObjectFieldSelector(field_path="metadata.name")))],
        # Kubernetes' default tolerance (3 failures, here 2 s each): with one
        # failure allowed, a node busy restarting its control plane made both
        # replicas unready at once, which left the Service without endpoints.
        # A pod being deleted leaves the endpoints at once whatever the probe.
        readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/healthz", port=PORT),
                                       period_seconds=2, timeout_seconds=2, failure_threshold=3),
        # Keep serving while the endpoint is removed from every node's rules.
        lifecycle=client.V1Lifecycle(pre_stop=client.V1LifecycleHandler(
            _exec=client.V1ExecAction(command=["sleep", "5"]))),
    )
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="echo"),
        spec=client.V1DeploymentSpec(
            replicas=2, selector=client.V1LabelSelector(match_labels=labels),
            strategy=client.V1DeploymentStrategy(
                type="RollingUpdate",
                rolling_update=client.V1RollingUpdateDeployment(max_unavailable=0, max_surge=1)),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[container], termination_grace_period_seconds=30,
                    topology_spread_constraints=[client.V1TopologySpreadConstraint(
                        max_skew=1, topology_key="kubernetes.io/hostname", when_unsatisfiable="ScheduleAnyway",
                        label_selector=client.V1LabelSelector(match_labels=labels))])),
        ))
    pdb = client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="echo"),
        spec=client.V1PodDisruptionBudgetSpec(min_available=1, selector=client.V1LabelSelector(match_labels=labels)))
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name="echo"),
        spec=client.V1ServiceSpec(type="NodePort", selector=labels,
                                  ports=[client.V1ServicePort(port=PORT, target_port=PORT)]))
    for create in (lambda: apps.create_namespaced_deployment(NAMESPACE, deployment),
                   lambda: policy.create_namespaced_pod_disruption_budget(NAMESPACE, pdb),
                   lambda: core.create_namespaced_service(NAMESPACE, service)):
        try:
            create()
        except client.ApiException as exc:
            if exc.status != 409:
                raise
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = apps.read_namespaced_deployment("echo", NAMESPACE).status
        if (status.ready_replicas or 0) >= 2:
            break
        time.sleep(3)
    else:
        sys.exit("the echo Deployment did not get 2 ready replicas within 300 s")
    node_port = core.read_namespaced_service("echo", NAMESPACE).spec.ports[0].node_port
    print(json.dumps({"node_port": node_port, "node_ips": node_ips(core)}))


def probe(kubeconfig, out):
    core = api(kubeconfig)
    node_port = core.read_namespaced_service("echo", NAMESPACE).spec.ports[0].node_port
    ips = node_ips(core)
    counts = dict((ip, {"ok": 0, "failed": 0}) for ip in ips)
    errors = []
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    last_write = 0.0

    def write():
        with open(out, "w", encoding="utf-8") as handle:
            json.dump({"node_port": node_port, "counts": counts,
                       "failed": sum(c["failed"] for c in counts.values()),
                       "ok": sum(c["ok"] for c in counts.values()), "errors": errors[-50:]}, handle, indent=1)

    while not stop:
        for ip in ips:
            url = "http://%s:%d/" % (ip, node_port)
            try:
                with urllib.request.urlopen(url, timeout=3) as response:
                    good = response.status == 200
            except Exception as exc:  # pylint: disable=broad-except
                good = False
                errors.append("%s %s %s" % (time.strftime("%H:%M:%S"), url, exc))
            counts[ip]["ok" if good else "failed"] += 1
        if time.monotonic() - last_write > 5:
            write()
            last_write = time.monotonic()
        time.sleep(0.2)
    write()


def nodes(kubeconfig):
    return api(kubeconfig).list_node().items


def state(kubeconfig):
    for node in nodes(kubeconfig):
        print(node.metadata.name, node.status.node_info.kubelet_version, bool(node.spec.unschedulable))


def fingerprint(kubeconfig):
    core = api(kubeconfig)
    apps = client.AppsV1Api()
    data = {
        "nodes": dict((n.metadata.name, [n.status.node_info.kubelet_version, bool(n.spec.unschedulable),
                                         (n.metadata.annotations or {}).get("normaldance.io/upgrade-cordoned")])
                      for n in core.list_node().items),
        "static_pods": sorted("%s=%s" % (p.metadata.name, p.spec.containers[0].image)
                              for p in core.list_namespaced_pod("kube-system", label_selector="tier=control-plane").items),
        "cluster_configuration": [line for line in core.read_namespaced_config_map("kubeadm-config", "kube-system")
                                  .data["ClusterConfiguration"].splitlines() if "kubernetesVersion" in line],
        "kube_proxy": apps.read_namespaced_daemon_set("kube-proxy", "kube-system").spec.template.spec.containers[0].image,
    }
    print(json.dumps(data, sort_keys=True))


def expect(kubeconfig, version, names):
    bad = []
    for node in nodes(kubeconfig):
        if names and node.metadata.name not in names:
            continue
        if node.status.node_info.kubelet_version != "v" + version:
            bad.append("%s runs kubelet %s" % (node.metadata.name, node.status.node_info.kubelet_version))
        if node.spec.unschedulable:
            bad.append("%s is cordoned" % node.metadata.name)
        ready = [c.status for c in node.status.conditions if c.type == "Ready"]
        if ready != ["True"]:
            bad.append("%s is not Ready" % node.metadata.name)
    if bad:
        sys.exit("expected v%s, Ready and schedulable: %s" % (version, "; ".join(bad)))
    print("nodes at v%s, Ready and schedulable: %s" % (version, ", ".join(names) or "all"))


def cleanup(kubeconfig):
    try:
        api(kubeconfig).delete_namespace(NAMESPACE)
    except client.ApiException as exc:
        if exc.status != 404:
            raise


def main(argv):
    command, kubeconfig = argv[1], argv[2]
    if command == "deploy":
        deploy(kubeconfig)
    elif command == "probe":
        probe(kubeconfig, argv[3])
    elif command == "state":
        state(kubeconfig)
    elif command == "fingerprint":
        fingerprint(kubeconfig)
    elif command == "expect":
        expect(kubeconfig, argv[3], argv[4:])
    elif command == "cleanup":
        cleanup(kubeconfig)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
