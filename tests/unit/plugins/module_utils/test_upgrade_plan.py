"""module_utils.upgrade_plan: the versions a cluster runs against the target."""
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils import upgrade_plan

TABLE = yaml.safe_load((pathlib.Path(__file__).parent / "fixtures" / "validation" / "upgrade_plan.yml").read_text())


def run(case):
    return upgrade_plan.plan(
        case["target"], case.get("control_planes", {}), case.get("kubelets", {}),
        cluster_configuration=case.get("cluster_configuration"),
        expected_from=case.get("expected_from"), nodes=case.get("nodes"))


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda case: case["id"])
def test_plan(case):
    found = run(case)
    if not case["problems"]:
        assert found["problems"] == []
        assert found["pending"] == case["pending"]
        assert found["apply_done"] is case["apply_done"]
        assert found["current"] == case["current"]
        assert set(found["done"]) | set(found["pending"]) == set(found["nodes"])
    else:
        assert len(found["problems"]) == 1, found["problems"]
        for part in case["problems"]:
            assert part in found["problems"][0]


@pytest.mark.parametrize("image,tag", TABLE["images"], ids=str)
def test_image_tag(image, tag):
    assert upgrade_plan.image_tag(image) == tag


RESOURCES = yaml.safe_load(
    (pathlib.Path(__file__).parent / "fixtures" / "upgrade" / "resources.yml").read_text())


def test_versions_from_resources():
    control_planes, kubelets = upgrade_plan.versions_from_resources(RESOURCES["nodes"], RESOURCES["pods"])
    assert control_planes == RESOURCES["expected"]["control_planes"]
    assert kubelets == RESOURCES["expected"]["kubelets"]


# kubeadm leaves kube-proxy at the old version after `upgrade apply` while
# other control planes still run it (the last `upgrade node` upgrades it).
@pytest.mark.parametrize("kube_proxy,apply_done", [(None, True), ("v1.36.5", True), ("v1.35.8", True),
                                                   ("", True), ("latest", True)])
def test_apply_is_done_when_the_cluster_configuration_is(kube_proxy, apply_done):
    found = upgrade_plan.plan("1.36.5", {"cp1": "v1.36.5"}, {"cp1": "v1.36.5"},
                              cluster_configuration="v1.36.5", kube_proxy=kube_proxy)
    assert found["apply_done"] is apply_done
