"""action upgrade_plan: the same table as module_utils.upgrade_plan, through the plugin, check mode included."""
import pathlib
from unittest.mock import MagicMock

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.action.upgrade_plan import ActionModule

TABLE = yaml.safe_load(
    (pathlib.Path(__file__).resolve().parents[1] / "module_utils" / "fixtures" / "validation" / "upgrade_plan.yml")
    .read_text())
KEYS = ("target", "control_planes", "kubelets", "cluster_configuration", "expected_from", "nodes")


def run_plugin(args, check_mode=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    context = MagicMock()
    context.check_mode = check_mode
    plugin = ActionModule(task, MagicMock(), context, loader=MagicMock(), templar=MagicMock(),
                          shared_loader_obj=MagicMock())
    return plugin.run(task_vars={})


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda case: case["id"])
def test_plugin(case, check_mode):
    result = run_plugin(dict((key, case[key]) for key in KEYS if key in case), check_mode)
    assert result["changed"] is False
    if case["problems"]:
        assert result["failed"] is True
        assert result["msg"].startswith("Refusing to upgrade, nothing was changed:")
        for part in case["problems"]:
            assert part in result["msg"]
    else:
        assert not result.get("failed")
        assert result["pending"] == case["pending"]
        if case["pending"]:
            assert ", ".join(case["pending"]) in result["msg"]
        else:
            assert "nothing to upgrade" in result["msg"]


def test_bad_arguments_fail_cleanly():
    result = run_plugin({"kubelets": {"cp1": "v1.36.5"}})
    assert result["failed"] is True
    assert "target" in result["msg"]


def test_resources_as_k8s_info_returns_them():
    resources = yaml.safe_load(
        (pathlib.Path(__file__).resolve().parents[1] / "module_utils" / "fixtures" / "upgrade" / "resources.yml")
        .read_text())
    result = run_plugin({"target": "1.36.5", "node_resources": resources["nodes"], "pod_resources": resources["pods"],
                         "cluster_configuration": "v1.36.5",
                         "kube_proxy_image": "10.210.0.5:5000/k8s/kube-proxy:v1.36.5",
                         "nodes": ["nd-cp1", "nd-cp2", "nd-w1"]})
    assert not result.get("failed"), result["msg"]
    assert result["pending"] == ["nd-cp2", "nd-w1"]
    assert result["apply_done"] is True
    assert result["nodes"]["nd-cp1"] == {"kubelet": "v1.36.5", "control_plane": "v1.36.5", "upgrade": False}


def test_skip_named_in_message_from_resources():
    resources = yaml.safe_load(
        (pathlib.Path(__file__).resolve().parents[1] / "module_utils" / "fixtures" / "upgrade" / "resources.yml")
        .read_text())
    result = run_plugin({"target": "1.37.0", "node_resources": resources["nodes"], "pod_resources": resources["pods"]})
    assert result["failed"] is True
    assert "platform_kubernetes_version is 1.37.0" in result["msg"]
    assert "the kubelet on nd-w1 runs 1.35.8" in result["msg"]
