"""Helpers shared by the tests that run against the lab.

The lab tests (tests/cluster, tests/day2, tests/ha) talk to the nodes the way
an operator does: ansible-playbook with the collection's playbooks, SSH with
the lab key, the Kubernetes API with the exported admin kubeconfig. This
module keeps those few moves in one place. tests/conftest.py puts the
directory of this file on sys.path, so a test imports it as ``lablib``.
"""
import os
import pathlib
import re
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SSH_DIR = ROOT / "lab" / ".state" / "ssh"
BIN = pathlib.Path(sys.executable).parent


LAB_NETWORK = "ndlab"


def lab_problem(inventory):
    """Why the lab of `inventory` cannot be tested, or None when it is up.

    An admin kubeconfig left by an earlier lab is not enough: without the
    lab's network the node addresses would be routed off the machine.
    """
    if not inventory.kubeconfig.exists():
        return f"no cluster: {inventory.kubeconfig} missing (run `make lab`)"
    try:
        up = subprocess.run(["podman", "network", "exists", LAB_NETWORK], check=False, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        up = False
    if not up:
        return f"the lab network {LAB_NETWORK} does not exist: the lab is down (run `make lab`)"
    return None


def skip_unless_lab(inventory):
    """Skip the calling test module when the lab of `inventory` is down;
    with ND_LAB_REQUIRED set, a lab that is down is an error instead."""
    problem = lab_problem(inventory)
    if problem:
        if os.environ.get("ND_LAB_REQUIRED"):
            raise RuntimeError(f"ND_LAB_REQUIRED is set but {problem}")
        import pytest  # only the tests import lablib with pytest around
        pytest.skip(problem, allow_module_level=True)


class Inventory:
    """Addresses and group members of a lab inventory (hosts.yml)."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.kubeconfig = self.path.parent / "artifacts" / "admin.conf"
        self.addresses, self.groups = {}, {}
        self._walk("all", yaml.safe_load(self.path.read_text())["all"])

    def _walk(self, name, node):
        members = set()
        for host, hvars in ((node or {}).get("hosts", {}) or {}).items():
            members.add(host)
            if hvars and "ansible_host" in hvars:
                self.addresses[host] = hvars["ansible_host"]
        for child, sub in ((node or {}).get("children", {}) or {}).items():
            members |= self._walk(child, sub)
        self.groups[name] = members
        return members

    def hosts(self, group):
        """The sorted members of `group`."""
        return sorted(self.groups.get(group, []))


def ansible_env():
    """Environment for ansible commands run by a test (the checkout's config, no colour)."""
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                ANSIBLE_SSH_COMMON_ARGS=f"-o UserKnownHostsFile={SSH_DIR / 'known_hosts'}",
                PATH=f"{BIN}:{os.environ.get('PATH', '')}")


def playbook(inventory, name, *extra, timeout=1800):
    """Run playbooks/<name> of the collection; return (exit code, output)."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / name), *extra]
    proc = subprocess.run(argv, cwd=ROOT, env=ansible_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def recap(output):
    """The last PLAY RECAP of an ansible-playbook output: {host: {"ok": n, "changed": n, ...}}."""
    if "PLAY RECAP" not in output:
        return {}
    section = output[output.rindex("PLAY RECAP"):]
    return {host: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
            for host, counts in re.findall(r"^(\S+)\s+:\s+(.*)$", section, re.M)}


def excerpt(output, tail=1500):
    """What explains a failed run: each error block (fatal:, failed:, ERROR) and the end of the output.

    The end of an ansible-playbook output is the recap and the profile table;
    the reason a run failed is usually far above it.
    """
    lines = output.splitlines()
    blocks, index = [], 0
    while index < len(lines):
        line = lines[index].lstrip()
        if line.startswith(("fatal:", "failed:", "ERROR!", "[ERROR]")):
            blocks.append("\n".join(lines[index:index + 25]))
            index += 25
        else:
            index += 1
    shown = "\n...\n".join(blocks[-4:])
    return f"{shown}\n... (end of the output)\n{output[-tail:]}" if shown else output[-tail:]


def ssh(address, command, check=True, stdin=None, timeout=60):
    """Run `command` as root on a lab node over SSH with the lab key."""
    argv = ["ssh", "-i", str(SSH_DIR / "id_ed25519"), "-o", f"UserKnownHostsFile={SSH_DIR / 'known_hosts'}",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", f"root@{address}", command]
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=timeout, input=stdin)


def wait(predicate, timeout=180, what="condition", interval=2):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # pylint: disable=broad-except  # the API or a node may be restarting
            value, last = None, exc
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


def pod_exec(api, namespace, pod, script):
    """Run `script` with bash in the first container of a pod; return its output (stdout and stderr)."""
    from kubernetes.stream import stream  # only needed when a cluster exists
    return stream(api.connect_get_namespaced_pod_exec, pod, namespace,
                  command=["/bin/bash", "-c", script], stderr=True, stdin=False, stdout=True, tty=False)


def pod_http_get(api, namespace, from_pod, host, port=8080, timeout=5):
    """GET / from inside a pod with bash's /dev/tcp (the echo image has no curl); CONNECT-FAILED on failure."""
    script = (
        f"timeout {timeout} bash -c 'exec 3<>/dev/tcp/{host}/{port}; "
        f"printf \"GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n\" >&3; cat <&3' 2>&1 || echo CONNECT-FAILED"
    )
    return pod_exec(api, namespace, from_pod, script)


def ingress_backend(name, host, namespace, node, image):
    """Objects of a test backend behind the ingress: the echo server on `node`
    (tolerating the control-plane taint), its Service, the NetworkPolicy that
    lets Traefik (namespace networking) in, and an Ingress for `host`."""
    labels = {"app": name}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": name, "namespace": namespace},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "nodeSelector": {"kubernetes.io/hostname": node},
                      "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                       "effect": "NoSchedule"}],
                      "terminationGracePeriodSeconds": 1,
                      "containers": [{"name": "echo", "image": image, "ports": [{"containerPort": 8080}],
                                      "env": [{"name": "POD_NAME", "value": name}],
                                      "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080},
                                                         "periodSeconds": 2}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
         "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": name, "namespace": namespace},
         "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                      "kubernetes.io/metadata.name": "networking"}},
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}}}],
                      "ports": [{"port": 8080}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
         "metadata": {"name": name, "namespace": namespace},
         "spec": {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
             "service": {"name": name, "port": {"number": 80}}}}]}}]}},
    ]
