"""etcd backup and disaster recovery on the lab, as an operator would do it.

1. Create ConfigMaps in a test namespace; run etcd_backup.yml.
2. Delete the ConfigMaps.
3. Corrupt a copy of the snapshot: etcd_restore.yml must refuse it with a
   clear message and change nothing (manifests, data directory, the
   deleted ConfigMaps stay deleted). Without the confirmation variable it
   must refuse too.
4. Restore the good snapshot: the ConfigMaps are back, every node is Ready.

This test takes the whole cluster back to the snapshot, so it only runs
when asked: ND_ETCD_RESTORE_TEST=1 (and a lab, see test_cluster.py; with
ND_LAB_REQUIRED set a missing lab is a failure). The inventory is
LAB_INVENTORY (default inventories/lab/hosts.yml); inventories/lab-ha
exercises the quorum rebuild on three control planes.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import uuid

import pytest
import yaml

import lablib

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = pathlib.Path(os.environ.get("LAB_INVENTORY", ROOT / "inventories" / "lab" / "hosts.yml"))
KUBECONFIG = INVENTORY.parent / "artifacts" / "admin.conf"
BIN = pathlib.Path(sys.executable).parent

PROBLEM = lablib.lab_problem(lablib.Inventory(INVENTORY))
if PROBLEM:
    if os.environ.get("ND_LAB_REQUIRED"):
        raise RuntimeError(f"ND_LAB_REQUIRED is set but {PROBLEM}")
    pytest.skip(PROBLEM, allow_module_level=True)
if not os.environ.get("ND_ETCD_RESTORE_TEST"):
    pytest.skip("restores the whole cluster: set ND_ETCD_RESTORE_TEST=1 to run it", allow_module_level=True)

from kubernetes import client, config  # noqa: E402  (only needed when a cluster exists)
from kubernetes.client.rest import ApiException  # noqa: E402

CONFIGMAPS = {f"cm-{i}": {"value": f"before-the-disaster-{i}"} for i in range(5)}


def _control_planes():
    data = yaml.safe_load(INVENTORY.read_text())
    groups = data["all"]["children"]["k8s_cluster"]["children"]
    return sorted(groups["control_plane"]["hosts"])


CONTROL_PLANES = _control_planes()
FIRST = CONTROL_PLANES[0]


def _env():
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                PATH=f"{BIN}:{os.environ.get('PATH', '')}")


def playbook(name, *extra):
    """Run a playbook of the collection; return (rc, output)."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(ROOT / "playbooks" / name), *extra]
    proc = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=1800, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def adhoc(host, module, args):
    """Run one module on one host; return its result."""
    argv = [str(BIN / "ansible"), "-i", str(INVENTORY), host, "-b", "--one-line", "-m", module, "-a", args]
    proc = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith(host + " | ")), "")
    assert " | SUCCESS => " in line or " | CHANGED => " in line, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(line.split(" => ", 1)[1])


def _wait(predicate, timeout=300, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (ApiException, OSError) as exc:  # the API may be restarting
            value, last = None, exc
        if value:
            return value
        time.sleep(3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


def _node_state():
    """What a refused restore must leave alone on every control plane."""
    state = {}
    for host in CONTROL_PLANES:
        manifests = adhoc(host, "ansible.builtin.find", "paths=/etc/kubernetes/manifests patterns=*.yaml")
        data = adhoc(host, "ansible.builtin.stat", "path=/var/lib/etcd/member get_checksum=false")
        aside = adhoc(host, "ansible.builtin.find", "paths=/var/lib patterns=etcd.before-restore-*,etcd.restore-* "
                                                    "file_type=directory")
        state[host] = {
            "manifests": sorted(f["path"] for f in manifests["files"]),
            "data_inode": data["stat"]["inode"],
            "aside_dirs": sorted(f["path"] for f in aside["files"]),
        }
    return state


@pytest.fixture(scope="module")
def api():
    config.load_kube_config(config_file=str(KUBECONFIG))
    return client.CoreV1Api()


def _configmaps(api, namespace):
    return {cm.metadata.name: cm.data for cm in api.list_namespaced_config_map(namespace).items
            if cm.metadata.name in CONFIGMAPS}


def _nodes_ready(api):
    nodes = api.list_node().items
    return nodes and all(
        [c for c in n.status.conditions if c.type == "Ready"][0].status == "True" for n in nodes)


def test_backup_then_refuse_a_corrupt_snapshot_then_restore(api, tmp_path):
    namespace = "nd-etcd-" + uuid.uuid4().hex[:6]
    api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    try:
        for name, data in CONFIGMAPS.items():
            api.create_namespaced_config_map(namespace, client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name=name), data=data))

        # 1. Back up.
        rc, out = playbook("etcd_backup.yml")
        assert rc == 0, lablib.excerpt(out)
        snapshots = adhoc(FIRST, "normaldance.platform.etcd_snapshot", "state=listed")["snapshots"]
        newest = snapshots[-1]
        assert newest["valid"] and newest["size"] > 0, snapshots

        # 2. The disaster.
        for name in CONFIGMAPS:
            api.delete_namespaced_config_map(name, namespace)
        assert _configmaps(api, namespace) == {}

        # The snapshot on the controller, with its .sha256, and a damaged copy.
        good_dir, bad_dir = tmp_path / "good", tmp_path / "bad"
        good_dir.mkdir()
        bad_dir.mkdir()
        for suffix in ("", ".sha256"):
            adhoc(FIRST, "ansible.builtin.fetch", f"src={newest['path']}{suffix} dest={good_dir}/ flat=true")
        good = good_dir / pathlib.Path(newest["path"]).name
        bad = bad_dir / good.name
        shutil.copy(good, bad)
        with open(bad, "r+b") as handle:
            handle.seek(good.stat().st_size // 2)
            handle.write(b"\0" * 8192)

        before = _node_state()

        # 3a. No confirmation: refused before anything.
        rc, out = playbook("etcd_restore.yml", "-e", f"etcd_restore_snapshot={good}")
        assert rc != 0 and "Set etcd_restore_confirm=true" in out, lablib.excerpt(out)

        # 3b. A damaged snapshot: refused with a clear message, nothing changed.
        rc, out = playbook("etcd_restore.yml", "-e", f"etcd_restore_snapshot={bad}", "-e", "etcd_restore_confirm=true")
        assert rc != 0, lablib.excerpt(out)
        assert f"Refusing to restore etcd from {bad}" in out and "is corrupt" in out, lablib.excerpt(out)
        assert _node_state() == before
        assert _configmaps(api, namespace) == {}, "a refused restore changed the cluster"

        # 4. The real restore.
        rc, out = playbook("etcd_restore.yml", "-e", f"etcd_restore_snapshot={good}", "-e", "etcd_restore_confirm=true")
        assert rc == 0, lablib.excerpt(out)

        restored = _wait(lambda: _configmaps(api, namespace) == CONFIGMAPS and _configmaps(api, namespace),
                         what="the ConfigMaps to be back")
        assert restored == CONFIGMAPS
        _wait(lambda: _nodes_ready(api), timeout=600, what="every node Ready after the restore")
        after = _node_state()
        for host in CONTROL_PLANES:
            assert after[host]["manifests"] == before[host]["manifests"], host
            assert any("etcd.before-restore-" in d for d in after[host]["aside_dirs"]), \
                f"{host}: the old data directory was not kept"
    finally:
        try:
            api.delete_namespace(namespace)
        except ApiException:
            pass
