"""module_utils.validation.argument_specs: role variables against the roles' meta/argument_specs.yml."""
import pathlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.normaldance.platform.plugins.module_utils.validation.argument_specs import (
    RoleSpecs, check_role_variables, check_value, masked, unknown_role_variables)
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import InventoryView, Unreadable

ROOT = pathlib.Path(__file__).resolve().parents[5]
TABLE = yaml.safe_load((pathlib.Path(__file__).parents[1] / "fixtures" / "validation" / "argument_specs.yml").read_text())
ROLE_SPECS = dict((path.parent.parent.name, yaml.safe_load(path.read_text())["argument_specs"])
                  for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")))
GROUPS = {"all": ["cp1", "w1", "w2"], "ungrouped": [], "k8s_cluster": ["cp1", "w1", "w2"], "control_plane": ["cp1"],
          "etcd": ["cp1"], "workers": ["w1", "w2"]}
SPECS = RoleSpecs({
    "demo": {"main": {"options": {
        "demo_flag": {"type": "bool", "default": False},
        "demo_mode": {"type": "str", "choices": ["a", "b"], "default": "a"},
        "demo_password": {"type": "str", "no_log": True, "default": ""},
        "demo_pair": {"type": "dict", "default": {},
                      "options": {"left": {"type": "str"}, "right": {"type": "str"}},
                      "mutually_exclusive": [["left", "right"]]},
    }}, "other": {"options": {"demo_mode": {"type": "str", "choices": ["a", "c"]}, "demo_count": {"type": "int"}}}},
    "demo_extra": {"main": {"options": {"demo_extra_list": {"type": "list", "elements": "str"}}}},
    "_internal": {"main": {"options": {"_internal_x": {"type": "str"}}}},
})


def ids(row):
    return "%s=%r" % (row["spec"].get("type", "str"), row["value"])


@pytest.mark.parametrize("row", TABLE, ids=ids)
def test_check_value(row):
    converted, problems = check_value(row["spec"], row["value"])
    assert problems == row["problems"]
    if not problems:
        assert converted == row["converted"]
        assert type(converted) is type(row["converted"])


@pytest.mark.parametrize("row", TABLE, ids=ids)
def test_what_ansible_refuses_is_refused(row):
    """The controller check is never more lenient than the role's own argument validation."""
    refused = ArgumentSpecValidator({"option": row["spec"]}).validate({"option": row["value"]}).error_messages
    if refused:
        assert row["problems"], refused


def test_roles_prefixes_and_entry_points():
    assert SPECS.roles == ["demo", "demo_extra"]
    assert SPECS.role_of("demo_flag") == "demo"
    assert SPECS.role_of("demo_extra_list") == "demo_extra"
    assert SPECS.role_of("demonstration") is None
    assert SPECS.role_of("_internal_x") is None
    assert SPECS.names_of("demo") == ["demo_count", "demo_flag", "demo_mode", "demo_pair", "demo_password"]
    # One spec per entry point that differs; an option of one entry point only is still known.
    assert [spec["choices"] for spec in SPECS.specs_of("demo_mode")] == [["a", "b"], ["a", "c"]]
    assert SPECS.specs_of("demo_count") == [{"type": "int"}]
    assert SPECS.default_of("demo_mode") == "a"
    assert SPECS.default_of("demo_unknown", "x") == "x"
    assert SPECS.source("demo") == "roles/demo/meta/argument_specs.yml"


def view(hostvars):
    return InventoryView(GROUPS, hostvars)


@pytest.mark.parametrize("hostvars,extra,problems", [
    ({"w1": {"demo_flga": True}}, (),
     ["demo_flga (host w1): unknown variable; did you mean demo_flag? every demo_* variable must be an option in "
      "roles/demo/meta/argument_specs.yml"]),
    ({"cp1": {"demo_zzz": 1}, "w1": {"demo_zzz": 1}, "w2": {"demo_zzz": 1}}, (),
     ["demo_zzz (group all): unknown variable; every demo_* variable must be an option in roles/demo/meta/argument_specs.yml"]),
    ({"w1": {"demo_extra_lst": []}}, (),
     ["demo_extra_lst (host w1): unknown variable; did you mean demo_extra_list? every demo_extra_* variable must be an "
      "option in roles/demo_extra/meta/argument_specs.yml"]),
    ({"w1": {"demo_zzz": 1, "demonstration": 1, "platform_x": 1}}, ("demo_zzz",), []),
])
def test_unknown_role_variables(hostvars, extra, problems):
    assert unknown_role_variables(view(hostvars), SPECS, extra) == problems


@pytest.mark.parametrize("hostvars,problems", [
    # Each distinct value is reported once, naming the place that holds it.
    ({"w1": {"demo_flag": "maybe"}, "w2": {"demo_flag": "maybe"}, "cp1": {"demo_flag": True}},
     ["demo_flag (group workers): 'maybe' is not a boolean; write true or false"]),
    # An option of several entry points must satisfy each of them.
    ({"w1": {"demo_mode": "c"}, "w2": {"demo_mode": "d"}},
     ["demo_mode (host w1): 'c' is not one of a, b",
      "demo_mode (host w2): 'd' is not one of a, b", "demo_mode (host w2): 'd' is not one of a, c"]),
    ({"cp1": {"demo_password": 42}}, ["demo_password (group control_plane): '********' is not a string; write it in quotes"]),
    ({"cp1": {"demo_flag": Unreadable("'x' is undefined")}},
     ["demo_flag (group control_plane): its template cannot be rendered ('x' is undefined)"]),
    # What the checker does not model itself is left to Ansible's ArgumentSpecValidator.
    ({"cp1": {"demo_pair": {"left": "l", "right": "r"}}},
     ["demo_pair (group control_plane): {'left': 'l', 'right': 'r'} is refused by the argument spec of role demo "
      "(parameters are mutually exclusive: left|right found in demo_pair)"]),
    ({"cp1": {"demo_pair": {"left": "l"}, "demo_flag": "yes", "demo_count": "7"}}, []),
])
def test_check_role_variables(hostvars, problems):
    found, values = check_role_variables(view(hostvars), SPECS)
    assert found == problems


def test_values_that_pass_come_back_converted():
    _found, values = check_role_variables(view({"cp1": {"demo_flag": "yes", "demo_count": "7", "demo_mode": "x"}}), SPECS)
    assert values == {"cp1": {"demo_flag": True, "demo_count": 7}, "w1": {}, "w2": {}}


def test_secrets_are_masked_at_any_depth():
    spec = {"type": "list", "elements": "dict", "options": {"name": {"type": "str"}, "token": {"type": "str", "no_log": True}}}
    assert masked([{"name": "a", "token": "t0ken", "access_key": "AK", "nested": {"password": "p"}}], spec) == [
        {"name": "a", "token": "********", "access_key": "********", "nested": {"password": "********"}}]


ALL_SPECS = [(role, entry, name, spec) for role, entries in sorted(ROLE_SPECS.items())
             for entry, data in sorted(entries.items()) for name, spec in sorted((data.get("options") or {}).items())]


@pytest.mark.parametrize("role,entry,name,spec", ALL_SPECS, ids=["%s:%s:%s" % row[:3] for row in ALL_SPECS])
def test_every_option_of_the_collection_has_a_type_the_checker_knows_and_a_valid_default(role, entry, name, spec):
    assert spec.get("type", "str") in ("str", "path", "bool", "int", "float", "list", "dict", "raw")
    if "default" in spec and spec["default"] is not None:
        assert check_value(spec, spec["default"])[1] == []


def test_the_collection_roles_are_all_known():
    specs = RoleSpecs(ROLE_SPECS)
    assert "cluster_nodes" in specs.roles and "_common" not in specs.roles
    assert specs.role_of("cluster_etcd_backup_target") == "cluster_etcd_backup"
    assert specs.role_of("node_prepare_sysctls") == "node_prepare"
    assert {spec["type"] for spec in specs.specs_of("cluster_upgrade_kubeconfig")} == {"path"}
