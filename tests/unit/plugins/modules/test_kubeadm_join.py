"""kubeadm_join: join once, no-op for members, refuse worker-to-control-plane, secrets kept out."""
from __future__ import annotations

import json

import pytest

from ansible_collections.normaldance.platform.plugins.module_utils import kubeadm as kubeadm_utils
from ansible_collections.normaldance.platform.plugins.modules import kubeadm_join
from ansible_collections.normaldance.platform.tests.unit.plugins.modules.kubeadm_helpers import run_module

TOKEN = "abcdef.0123456789abcdef"
CERT_KEY = "cd" * 32
HASH = "sha256:" + "0f" * 32
JOIN = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "JoinConfiguration",
        "nodeRegistration": {"name": "nd-w1"}}


@pytest.fixture
def node(tmp_path, monkeypatch):
    etc = tmp_path / "etc-kubernetes"
    (etc / "manifests").mkdir(parents=True)
    monkeypatch.setattr(kubeadm_join, "APISERVER_MANIFEST", str(etc / "manifests" / "kube-apiserver.yaml"))
    monkeypatch.setattr(kubeadm_join, "STATE_DIR", str(etc / "normaldance"))
    monkeypatch.setattr(kubeadm_utils, "STATE_DIR", str(etc / "normaldance"))
    return etc


def args(etc, **extra):
    base = dict(config=JOIN, api_server_endpoint="10.210.0.10:6443", token=TOKEN,
                discovery_token_ca_cert_hash=HASH, kubelet_kubeconfig=str(etc / "kubelet.conf"))
    base.update(extra)
    return base


@pytest.mark.parametrize("control_plane", [False, True])
def test_join_writes_full_config_privately(monkeypatch, node, control_plane):
    seen = {}

    def join(argv):
        path = argv[argv.index("--config") + 1]
        seen["doc"] = json.loads(open(path, encoding="utf-8").read().split("---\n")[1])
        (node / "kubelet.conf").write_text("x")
        return 0, "This node has joined the cluster", ""

    extra = dict(control_plane=True, certificate_key=CERT_KEY) if control_plane else {}
    result, failed, _commands = run_module(monkeypatch, kubeadm_join.main, args(node, **extra),
                                           [(("kubeadm", "join"), join)])
    assert not failed, result
    assert result["changed"] and result["member"]
    assert result["role"] == ("control-plane" if control_plane else "worker")
    boot = seen["doc"]["discovery"]["bootstrapToken"]
    assert boot == {"apiServerEndpoint": "10.210.0.10:6443", "caCertHashes": [HASH], "token": TOKEN}
    assert ("controlPlane" in seen["doc"]) is control_plane
    if control_plane:
        assert seen["doc"]["controlPlane"]["certificateKey"] == CERT_KEY
    record = (node / "normaldance" / "kubeadm-join.json").read_text()
    assert TOKEN not in record and CERT_KEY not in record
    assert [p.name for p in (node / "normaldance").iterdir()] == ["kubeadm-join.json"]


def test_member_is_left_alone(monkeypatch, node):
    (node / "kubelet.conf").write_text("x")
    result, failed, commands = run_module(monkeypatch, kubeadm_join.main, args(node), [])
    assert not failed and result["changed"] is False and commands.calls == []


def test_check_mode_predicts_join_with_diff_without_secrets(monkeypatch, node):
    result, failed, commands = run_module(monkeypatch, kubeadm_join.main, args(node), [], check_mode=True, diff=True)
    assert not failed and result["changed"] and commands.calls == []
    assert "10.210.0.10:6443" in result["diff"]["after"]
    assert TOKEN not in result["diff"]["after"]


def test_worker_cannot_become_control_plane_in_place(monkeypatch, node):
    (node / "kubelet.conf").write_text("x")
    result, failed, _commands = run_module(monkeypatch, kubeadm_join.main,
                                           args(node, control_plane=True, certificate_key=CERT_KEY), [])
    assert failed and "already a worker" in result["msg"]


@pytest.mark.parametrize("extra,message", [
    (dict(control_plane=True), "certificate_key"),
    (dict(discovery_token_ca_cert_hash="deadbeef"), "sha256:"),
    (dict(config={"apiVersion": "v", "kind": "InitConfiguration"}), "JoinConfiguration"),
])
def test_bad_arguments(monkeypatch, node, extra, message):
    result, failed, _commands = run_module(monkeypatch, kubeadm_join.main, args(node, **extra), [])
    assert failed and message in result["msg"]


def test_join_failure_hides_secrets(monkeypatch, node):
    script = [(("kubeadm", "join"), (1, "", "unauthorized token %s" % TOKEN))]
    result, failed, _commands = run_module(monkeypatch, kubeadm_join.main, args(node), script)
    assert failed and "unauthorized" in result["msg"] and TOKEN not in result["msg"]
