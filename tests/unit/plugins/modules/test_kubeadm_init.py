"""kubeadm_init: init on a fresh node, no-op plus drift report on an initialised one, secrets kept out."""
from __future__ import annotations

import json

import pytest

from ansible_collections.normaldance.platform.plugins.module_utils import kubeadm as kubeadm_utils
from ansible_collections.normaldance.platform.plugins.modules import kubeadm_init
from ansible_collections.normaldance.platform.tests.unit.plugins.modules.kubeadm_helpers import (
    fixture_text,
    run_module,
)

CERT_KEY = "ab" * 32
TOKEN = "abcdef.0123456789abcdef"
CONFIG = [
    {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",
     "localAPIEndpoint": {"advertiseAddress": "10.210.0.11"}},
    {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
     "kubernetesVersion": "v1.36.5", "controlPlaneEndpoint": "10.210.0.10:6443",
     "networking": {"podSubnet": "10.244.0.0/16"}},
]


@pytest.fixture
def node(tmp_path, monkeypatch):
    """A fake /etc/kubernetes under tmp_path."""
    etc = tmp_path / "etc-kubernetes"
    (etc / "manifests").mkdir(parents=True)
    state = etc / "normaldance"
    monkeypatch.setattr(kubeadm_init, "APISERVER_MANIFEST", str(etc / "manifests" / "kube-apiserver.yaml"))
    monkeypatch.setattr(kubeadm_init, "STATE_DIR", str(state))
    monkeypatch.setattr(kubeadm_utils, "STATE_DIR", str(state))
    return etc


def initialise(etc):
    (etc / "admin.conf").write_text("kubeconfig")
    (etc / "manifests" / "kube-apiserver.yaml").write_text("pod")


def args(etc, config=None, **extra):
    base = dict(config=config or CONFIG, admin_kubeconfig=str(etc / "admin.conf"),
                certificate_key=CERT_KEY, token=TOKEN)
    base.update(extra)
    return base


def test_fresh_node_runs_init_with_secrets_in_a_private_file(monkeypatch, node):
    seen = {}

    def kubeadm_run(argv):
        path = argv[argv.index("--config") + 1]
        seen["mode"] = oct(__import__("os").stat(path).st_mode & 0o777)
        seen["text"] = open(path, encoding="utf-8").read()
        initialise(node)
        return 0, "Your Kubernetes control-plane has initialized successfully! kubeadm join --token %s" % TOKEN, ""

    result, failed, commands = run_module(monkeypatch, kubeadm_init.main, args(node),
                                          [(("kubeadm", "init"), kubeadm_run)])
    assert not failed, result
    assert result["changed"] and result["ran_init"] and result["initialized"]
    assert commands.calls[0][-1] == "--upload-certs"
    assert seen["mode"] == "0o600"
    assert CERT_KEY in seen["text"] and TOKEN in seen["text"]
    # the private file is gone, the record kept on the node has no secrets
    leftovers = [p.name for p in (node / "normaldance").iterdir()]
    assert leftovers == ["kubeadm-init.json"]
    record = (node / "normaldance" / "kubeadm-init.json").read_text()
    assert CERT_KEY not in record and TOKEN not in record
    assert CERT_KEY not in json.dumps(result) and TOKEN not in json.dumps(result)


def test_fresh_node_check_mode_predicts_init_and_diff_hides_secrets(monkeypatch, node):
    result, failed, commands = run_module(monkeypatch, kubeadm_init.main, args(node), [], check_mode=True, diff=True)
    assert not failed
    assert result["changed"] and result["ran_init"] and not result["initialized"]
    assert commands.calls == []
    assert "10.210.0.10:6443" in result["diff"]["after"]
    assert CERT_KEY not in result["diff"]["after"] and TOKEN not in result["diff"]["after"]
    assert not (node / "normaldance").exists()


def test_init_failure_is_reported_without_secrets(monkeypatch, node):
    script = [(("kubeadm", "init"), (1, "", "[preflight] token %s key %s: port 6443 in use" % (TOKEN, CERT_KEY)))]
    result, failed, _commands = run_module(monkeypatch, kubeadm_init.main, args(node), script)
    assert failed
    assert "port 6443 in use" in result["msg"]
    assert TOKEN not in result["msg"] and CERT_KEY not in result["msg"]
    assert list((node / "normaldance").iterdir()) == []


DRIFT = [
    ("converged", CONFIG, []),
    ("pod-subnet-changed",
     [CONFIG[0], dict(CONFIG[1], networking={"podSubnet": "10.245.0.0/16"})],
     [{"path": "networking.podSubnet", "running": "10.244.0.0/16", "desired": "10.245.0.0/16"}]),
    ("new-setting",
     [CONFIG[0], dict(CONFIG[1], apiServer={"extraArgs": [{"name": "audit-log-maxage", "value": "30"}]})],
     [{"path": "apiServer.extraArgs", "running": None,
       "desired": [{"name": "audit-log-maxage", "value": "30"}]}]),
]


@pytest.mark.parametrize("case_id,config,drift", DRIFT, ids=[c[0] for c in DRIFT])
@pytest.mark.parametrize("check", [False, True])
def test_initialised_node_reports_drift_and_changes_nothing(monkeypatch, node, case_id, config, drift, check):
    initialise(node)
    script = [(("kubectl",), (0, fixture_text("kubeadm-config-cm.json"), ""))]
    result, failed, commands = run_module(monkeypatch, kubeadm_init.main, args(node, config=config), script,
                                          check_mode=check, diff=True)
    assert not failed, result
    assert result["changed"] is False and result["ran_init"] is False
    assert result["drift"] == drift
    assert ("diff" in result) is bool(drift)
    assert all(c[0].endswith("kubectl") for c in commands.calls)


@pytest.mark.parametrize("config,message", [
    ([CONFIG[1]], "InitConfiguration"),
    ([CONFIG[0]], "ClusterConfiguration"),
    ([{"kind": "InitConfiguration"}], "apiVersion and kind"),
])
def test_bad_config_is_refused(monkeypatch, node, config, message):
    result, failed, commands = run_module(monkeypatch, kubeadm_init.main, args(node, config=config), [])
    assert failed and message in result["msg"]
    assert commands.calls == []
