"""Day-2 playbooks on the running lab: scale.yml, reset.yml, remove_node.yml.

Runs against the default lab (`make lab`) through inventories/lab-scale,
which adds the worker nd-w3 (tools/test-cluster.sh creates its node with
`LAB_INVENTORY=inventories/lab-scale LAB_SKIP_SITE=1 tools/lab.sh up`). The
tests run in order and each builds on the one before:

1. scale.yml adds nd-w3: the members report changed=0, nd-w3 is Ready; a
   second run changes nothing;
2. reset.yml refuses without its confirmation variable (nothing changed),
   remove_node.yml refuses to remove the only control plane;
   with it nd-w3 is clean (no kubelet, no Kubernetes state, no Kubernetes
   iptables chains, no pod network interfaces), containerd still runs, and
   a second reset changes nothing;
3. scale.yml refuses nd-w3 while it holds what a join stopped half-way
   leaves (a kubelet bootstrap file), naming reset.yml; with worker nd-w1
   stopped, scale.yml joins nd-w3 again, completes for
   every reachable host and names nd-w1 as unreachable;
4. remove_node.yml drains nd-w3 (a PodDisruptionBudget in the way is
   respected), deletes it from the cluster and resets it; no pod is left
   Pending.

Without a lab the module is skipped, unless ND_LAB_REQUIRED is set.
"""
import os
import pathlib
import subprocess
import time
import uuid

import pytest

import lablib

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = pathlib.Path(os.environ.get("LAB_SCALE_INVENTORY", ROOT / "inventories" / "lab-scale" / "hosts.yml"))
KUBECONFIG = INVENTORY.parent / "artifacts" / "admin.conf"
ECHO_IMAGE = os.environ.get("ND_ECHO_IMAGE", "10.210.0.5:5000/normaldance/echo:1.0.0")
LOGS = ROOT / "build" / "test-day2"
NEW = "nd-w3"
STOPPED = "nd-w1"

PROBLEM = lablib.lab_problem(lablib.Inventory(INVENTORY))
if PROBLEM:
    if os.environ.get("ND_LAB_REQUIRED"):
        raise RuntimeError(f"ND_LAB_REQUIRED is set but {PROBLEM}")
    pytest.skip(PROBLEM, allow_module_level=True)

from kubernetes import client, config  # noqa: E402  (only needed when a cluster exists)
from kubernetes.client.rest import ApiException  # noqa: E402


INV = lablib.Inventory(INVENTORY)
ADDRESSES = INV.addresses


def _ssh(host, command, check=False):
    return lablib.ssh(ADDRESSES[host], command, check=check)


def _playbook(name, *args, log):
    LOGS.mkdir(parents=True, exist_ok=True)
    env = lablib.ansible_env()
    started = time.monotonic()
    run = subprocess.run(["ansible-playbook", "-i", str(INVENTORY), str(ROOT / "playbooks" / name), *args],
                         capture_output=True, text=True, env=env, timeout=1800, check=False)
    seconds = time.monotonic() - started
    (LOGS / log).write_text(run.stdout + run.stderr)
    stats = lablib.recap(run.stdout)
    print(f"\n{name} {' '.join(args)}: exit {run.returncode} in {seconds:.0f} s; recap {stats}")
    return run, stats


def _wait(predicate, timeout=240, what="condition", interval=3):
    return lablib.wait(predicate, timeout=timeout, what=what, interval=interval)


@pytest.fixture(scope="module")
def api():
    config.load_kube_config(config_file=str(KUBECONFIG))
    return client.CoreV1Api()


def _ready(api, node):
    try:
        conditions = api.read_node(node).status.conditions or []
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return {c.type: c.status for c in conditions}.get("Ready") == "True"


def _node_is_clean(host):
    """What reset promises: no kubelet, no Kubernetes state, containerd kept."""
    script = (
        "systemctl is-active kubelet; systemctl is-active containerd; "
        "ls -d /etc/kubernetes /var/lib/kubelet /var/lib/etcd /etc/cni/net.d 2>/dev/null | wc -l; "
        "iptables-save | grep -c -E '^:(KUBE-|FLANNEL-|CNI-)' ; "
        "ls /sys/class/net | grep -c -E '^(cni0|flannel\\.1)$'"
    )
    lines = _ssh(host, script).stdout.split()
    return {"kubelet": lines[0], "containerd": lines[1], "state_dirs": int(lines[2]),
            "kube_chains": int(lines[3]), "pod_interfaces": int(lines[4])}


CLEAN = {"kubelet": "inactive", "containerd": "active", "state_dirs": 0, "kube_chains": 0, "pod_interfaces": 0}


def test_scale_adds_a_worker_and_leaves_the_members_alone(api):
    assert not _ready(api, NEW), f"{NEW} is already a Ready member; the test needs it outside the cluster"
    run, stats = _playbook("scale.yml", log="scale.log")
    assert run.returncode == 0, lablib.excerpt(run.stdout)
    for host in ("nd-cp1", "nd-w1", "nd-w2"):
        assert stats[host]["changed"] == 0, f"scale.yml changed {host}: {stats[host]}"
    assert stats[NEW]["changed"] > 0
    _wait(lambda: _ready(api, NEW), what=f"{NEW} Ready")

    run, stats = _playbook("scale.yml", log="scale-rerun.log")
    assert run.returncode == 0
    assert all(s["changed"] == 0 for s in stats.values()), f"a second scale.yml changed something: {stats}"


def test_reset_refuses_without_confirmation():
    run = _playbook("reset.yml", "-e", f"reset_nodes={NEW}", log="reset-refused.log")[0]
    assert run.returncode == 2
    assert "cluster_reset_confirm must be true" in run.stdout
    assert _ssh(NEW, "test -f /etc/kubernetes/kubelet.conf").returncode == 0, "the refused reset changed the node"


def test_remove_node_refuses_the_last_control_plane(api):
    control_plane = "nd-cp1"  # the lab's only control plane
    run = _playbook("remove_node.yml", "-e", f"remove_nodes={control_plane}", log="remove-last-cp.log")[0]
    assert run.returncode == 2
    assert f"removing {control_plane} would leave no control plane" in run.stdout
    assert "Nothing was changed" in run.stdout
    assert not api.read_node(control_plane).spec.unschedulable, "the refused removal cordoned the control plane"


def test_reset_with_confirmation_leaves_a_clean_node():
    run, stats = _playbook("reset.yml", "-e", f"reset_nodes={NEW}", "-e", "cluster_reset_confirm=true",
                           log="reset.log")
    assert run.returncode == 0, lablib.excerpt(run.stdout)
    assert stats[NEW]["changed"] > 0
    assert _node_is_clean(NEW) == CLEAN
    run, stats = _playbook("reset.yml", "-e", f"reset_nodes={NEW}", "-e", "cluster_reset_confirm=true",
                           log="reset-rerun.log")
    assert run.returncode == 0 and stats[NEW]["changed"] == 0, f"a second reset changed {NEW}: {stats[NEW]}"


def test_scale_refuses_a_node_left_half_joined(api):
    # What a join that stopped after the kubelet's TLS bootstrap leaves behind.
    _ssh(NEW, "install -d /etc/kubernetes && touch /etc/kubernetes/bootstrap-kubelet.conf")
    try:
        run, stats = _playbook("scale.yml", log="scale-half-joined.log")
        assert run.returncode == 2, f"scale.yml exited {run.returncode} (expected 2: a host failed)"
        assert (f"scale.yml on host {NEW}: the host is not a member" in run.stdout
                and f"reset.yml -e reset_nodes={NEW}" in run.stdout), lablib.excerpt(run.stdout)
        assert stats[NEW]["failed"] == 1 and stats[NEW]["changed"] == 0, stats[NEW]
        assert all(s["failed"] == 0 and s["changed"] == 0 for h, s in stats.items() if h != NEW), stats
    finally:
        _ssh(NEW, "rm -rf /etc/kubernetes")


def test_scale_with_a_member_down_joins_the_reset_node_again(api):
    subprocess.run(["podman", "stop", "--time", "10", STOPPED], check=True, capture_output=True, timeout=60)
    try:
        run, stats = _playbook("scale.yml", log="scale-member-down.log")
        assert run.returncode == 4, f"scale.yml exited {run.returncode} (expected 4: a host unreachable)"
        assert f"fatal: [{STOPPED}]: UNREACHABLE!" in run.stdout, "the run does not name the unreachable host"
        assert stats[STOPPED]["unreachable"] >= 1
        for host, counts in stats.items():
            if host != STOPPED:
                assert counts["failed"] == 0 and counts["unreachable"] == 0, f"{host}: {counts}"
        assert stats["nd-cp1"]["changed"] == 0 and stats["nd-w2"]["changed"] == 0
        _wait(lambda: _ready(api, NEW), what=f"{NEW} Ready after joining again")
    finally:
        subprocess.run(["podman", "start", STOPPED], capture_output=True, timeout=120, check=False)
    _wait(lambda: _ready(api, STOPPED), timeout=300, what=f"{STOPPED} Ready again")


def test_remove_node_drains_deletes_and_resets(api):
    namespace = "nd-day2-" + uuid.uuid4().hex[:6]
    labels = {"app": "day2-echo"}
    api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    apps, policy = client.AppsV1Api(), client.PolicyV1Api()
    try:
        apps.create_namespaced_deployment(namespace, client.V1Deployment(
            metadata=client.V1ObjectMeta(name="day2-echo"),
            spec=client.V1DeploymentSpec(
                replicas=3,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(
                        containers=[client.V1Container(
                            name="echo", image=ECHO_IMAGE,
                            readiness_probe=client.V1Probe(
                                http_get=client.V1HTTPGetAction(path="/", port=8080), period_seconds=2))],
                        # Honor: the tainted control plane is no spreading
                        # domain, so 3 replicas fit on 2 workers afterwards.
                        topology_spread_constraints=[client.V1TopologySpreadConstraint(
                            max_skew=1, topology_key="kubernetes.io/hostname", when_unsatisfiable="DoNotSchedule",
                            node_taints_policy="Honor",
                            label_selector=client.V1LabelSelector(match_labels=labels))])))))
        policy.create_namespaced_pod_disruption_budget(namespace, client.V1PodDisruptionBudget(
            metadata=client.V1ObjectMeta(name="day2-echo"),
            spec=client.V1PodDisruptionBudgetSpec(min_available=2, selector=client.V1LabelSelector(match_labels=labels))))
        _wait(lambda: (apps.read_namespaced_deployment("day2-echo", namespace).status.ready_replicas or 0) == 3,
              what="3 ready replicas")
        on_new = [p.metadata.name for p in api.list_namespaced_pod(namespace).items if p.spec.node_name == NEW]
        assert on_new, f"no replica landed on {NEW}; the drain would prove nothing"

        run, stats = _playbook("remove_node.yml", "-e", f"remove_nodes={NEW}", log="remove.log")
        assert run.returncode == 0, lablib.excerpt(run.stdout)
        with pytest.raises(ApiException) as gone:
            api.read_node(NEW)
        assert gone.value.status == 404
        _wait(lambda: (apps.read_namespaced_deployment("day2-echo", namespace).status.ready_replicas or 0) == 3,
              what="3 ready replicas after the removal")
        pods = api.list_namespaced_pod(namespace).items
        assert all(p.status.phase == "Running" and p.spec.node_name != NEW for p in pods), \
            [(p.metadata.name, p.status.phase, p.spec.node_name) for p in pods]
        pending = [f"{p.metadata.namespace}/{p.metadata.name}"
                   for p in api.list_pod_for_all_namespaces(field_selector="status.phase=Pending").items]
        assert not pending, f"pods left Pending after the removal: {pending}"
        assert _node_is_clean(NEW) == CLEAN
    finally:
        api.delete_namespace(namespace)
