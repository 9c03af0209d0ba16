"""module_utils.validation.role_rules: the roles' preflight rules, checked on the controller."""
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils.validation.argument_specs import RoleSpecs, check_role_variables
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import InventoryView
from ansible_collections.normaldance.platform.plugins.module_utils.validation.role_rules import (
    RULES, check_role_rules, is_label_value, is_qualified_name)

ROOT = pathlib.Path(__file__).resolve().parents[5]
TABLE = yaml.safe_load((pathlib.Path(__file__).parents[1] / "fixtures" / "validation" / "role_rules.yml").read_text())
SPECS = RoleSpecs(dict((path.parent.parent.name, yaml.safe_load(path.read_text())["argument_specs"])
                       for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml"))))
GROUPS = {"all": ["cp1", "w1"], "ungrouped": [], "k8s_cluster": ["cp1", "w1"], "control_plane": ["cp1"], "etcd": ["cp1"],
          "workers": ["w1"], "monitoring": []}


def run(values_per_host):
    view = InventoryView(GROUPS, values_per_host)
    problems, values = check_role_variables(view, SPECS)
    assert problems == []
    return check_role_rules(view, values, SPECS)


@pytest.mark.parametrize("row", TABLE, ids=lambda row: ",".join(sorted(row["set"])))
def test_rules(row):
    assert run({"cp1": dict(row["set"]), "w1": dict(row["set"])}) == row["problems"]


def test_a_value_on_one_host_names_that_host_group():
    assert run({"w1": {"cluster_nodes_labels": {"a b": "c"}}}) == [
        "cluster_nodes_labels (group workers): key 'a b' is not a valid label key; a key is a name of at most 63 letters, "
        "digits, '-', '_' and '.' that starts and ends with a letter or digit, optionally after a DNS subdomain prefix "
        "and '/', such as normaldance.io/pool"]


@pytest.mark.parametrize("name", sorted(set(name for name, _kind, _rule in RULES)))
def test_every_rule_is_about_an_option_of_its_role(name):
    specs = SPECS.specs_of(name)
    assert specs, "%s is not in any role's argument spec" % name
    kinds = {"str": str, "path": str, "int": int, "bool": bool, "dict": dict, "list": list}
    wanted = [kind for rule_name, kind, _rule in RULES if rule_name == name]
    assert all(kinds[spec["type"]] in wanted for spec in specs)


@pytest.mark.parametrize("text,valid", [
    ("app", True), ("normaldance.io/pool", True), ("kubernetes.io/hostname", True), ("a" * 63, True),
    ("a" * 64, False), ("x/" + "a" * 63, True), ("", False), ("/app", False), ("a/b/c", False), ("UP.example/x", False),
    ("-a", False), ("a_", False), ("a b", False), (5, False),
])
def test_qualified_names(text, valid):
    assert is_qualified_name(text) is valid


@pytest.mark.parametrize("text,valid", [
    ("", True), ("general", True), ("a.b_c-d", True), ("a" * 63, True), ("a" * 64, False), ("-a", False),
    ("a b", False), ("x/y", False), (True, False),
])
def test_label_values(text, valid):
    assert is_label_value(text) is valid
