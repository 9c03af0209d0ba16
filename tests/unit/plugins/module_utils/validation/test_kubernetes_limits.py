"""module_utils.validation.kubernetes_limits: what kubeadm and Kubernetes refuse only on the hosts."""
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils.validation import kubernetes_limits, variables
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import InventoryView

TABLE = yaml.safe_load((pathlib.Path(__file__).parents[1] / "fixtures" / "validation" / "kubernetes_limits.yml").read_text())
BASE = {"platform_node_network": "192.0.2.0/24", "platform_api_endpoint_address": "192.0.2.10"}


def settings(values):
    hostvars = {"cp1": dict(BASE, **values)}
    return variables.resolve_settings(InventoryView({"all": ["cp1"]}, hostvars))[0]


def row_id(row):
    return "%s-%d" % (",".join("%s=%s" % item for item in sorted(row["set"].items())), row["nodes"])


@pytest.mark.parametrize("row", TABLE, ids=row_id)
def test_limits(row):
    port_range = tuple(row.get("port_range", kubernetes_limits.DEFAULT_NODE_PORT_RANGE))
    assert kubernetes_limits.check_limits(settings(row["set"]), row["nodes"], port_range) == row["problems"]


@pytest.mark.parametrize("extra_args,expected", [
    (None, (30000, 32767)),
    ([], (30000, 32767)),
    ([{"name": "service-node-port-range", "value": "20000-22767"}], (20000, 22767)),
    ([{"name": "audit-log-maxage", "value": "3"}, {"name": "service-node-port-range", "value": "30000+100"}], (30000, 30100)),
    ([{"name": "service-node-port-range", "value": "wide"}], (30000, 32767)),
    (["service-node-port-range=1-2"], (30000, 32767)),
])
def test_node_port_range(extra_args, expected):
    assert kubernetes_limits.node_port_range(extra_args) == expected
