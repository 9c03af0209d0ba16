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
