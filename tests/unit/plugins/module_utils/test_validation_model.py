"""module_utils.validation.model: how places and values are named in messages."""
import pytest

from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import (
    InventoryView, Unreadable, plain, show)

GROUPS = {
    "all": ["cp1", "cp2", "cp3", "w1", "w2"],
    "ungrouped": [],
    "k8s_cluster": ["cp1", "cp2", "cp3", "w1", "w2"],
    "control_plane": ["cp1", "cp2", "cp3"],
    "etcd": ["cp1", "cp2", "cp3"],
    "workers": ["w1", "w2"],
    "rack_a": ["cp1", "w1"],
}


@pytest.mark.parametrize("hosts,label", [
    (["cp1", "cp2", "cp3", "w1", "w2"], "group all"),
    (["cp1", "cp2", "cp3"], "group control_plane"),
    (["w2", "w1"], "group workers"),
    (["cp1", "w1"], "group rack_a"),
    (["cp2"], "host cp2"),
    (["w2", "cp2"], "hosts cp2, w2"),
    ([], "group all"),
])
def test_labels(hosts, label):
    assert InventoryView(GROUPS, {}).label(hosts) == label


def test_value_groups_split_hosts_by_value():
    hostvars = dict((host, {"platform_pod_network": "10.244.0.0/16"}) for host in GROUPS["all"])
    hostvars["w2"]["platform_pod_network"] = "10.245.0.0/16"
    del hostvars["w1"]["platform_pod_network"]
    view = InventoryView(GROUPS, hostvars)
    assert view.value_groups("platform_pod_network") == [
        ("10.244.0.0/16", ["cp1", "cp2", "cp3"]), ("10.245.0.0/16", ["w2"])]


def test_value_groups_keep_booleans_and_numbers_apart():
    view = InventoryView({"all": ["a", "b"]}, {"a": {"x": True}, "b": {"x": 1}})
    assert view.value_groups("x") == [(True, ["a"]), (1, ["b"])]


def test_unreadable_values_with_the_same_reason_group_together():
    view = InventoryView({"all": ["a", "b"]}, {"a": {"x": Unreadable("boom")}, "b": {"x": Unreadable("boom")}})
    assert view.value_groups("x") == [(Unreadable("boom"), ["a", "b"])]


@pytest.mark.parametrize("value,secret,text", [
    ("10.0.0.0/8", False, "'10.0.0.0/8'"),
    (6443, False, "6443"),
    (["a"], False, "['a']"),
    ("hunter2", True, "'********'"),
    (["hunter2"], True, "'********'"),
    (Unreadable("x"), False, "(a template that cannot be rendered)"),
])
def test_show(value, secret, text):
    assert show(value, secret) == text


def test_plain_unwraps_subclasses():
    class Tagged(str):
        pass

    value = plain({"a": [Tagged("x")], 1: (2,)})
    assert value == {"a": ["x"], "1": [2]}
    assert not isinstance(value["a"][0], Tagged)
