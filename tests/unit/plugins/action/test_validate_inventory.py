"""action validate_inventory: every broken inventory of the integration suite, through the plugin.

The inventories are real files (tests/integration/bad_inventories/<case>),
loaded with ansible-core's InventoryManager and VariableManager the way
ansible-playbook loads them; each case's expected.txt holds the exact
messages, in order.
"""
import pathlib
import shutil
from unittest.mock import MagicMock, patch

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.playbook.play_context import PlayContext
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible.errors import AnsibleError

from ansible_collections.normaldance.platform.plugins.action.validate_inventory import (
    ROLES_DIR, ActionModule, inventory_dirs, load_role_specs)
from ansible_collections.normaldance.platform.plugins.module_utils.platform_variables import SECRETS
from inventory_cases import BAD, BAD_CASES as CASES, GOOD, GOOD_CASES, prepare

ROOT = pathlib.Path(__file__).resolve().parents[4]
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
SHIPPED = ["lab", "lab-ha", "lab-scale", "development", "staging", "production"]
# What ansible-vault encrypted values would provide in a real staging or production.
REPLACED_SECRETS = dict((name, "unit-test-secret-%d" % number) for number, name in enumerate(SECRETS))


def run_plugin(inventory, args=None, extra_vars=None, vault_password=None):
    loader = DataLoader()
    if vault_password is not None:
        loader.set_vault_secrets([("default", VaultSecret(vault_password))])
    manager = InventoryManager(loader=loader, sources=[str(inventory)])
    # ansible-core caches the extra vars of the command line process-wide; give each run its own.
    with patch("ansible.vars.manager.load_extra_vars", return_value=dict(extra_vars or {})):
        variables = VariableManager(loader=loader, inventory=manager)
    HostVars(inventory=manager, variable_manager=variables, loader=loader)
    task_vars = variables.get_vars(host=manager.localhost, include_hostvars=True)
    task = MagicMock()
    task.args = dict(args or {})
    task.async_val = 0
    task.check_mode = False
    task.diff = False
    connection = MagicMock()
    action = ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=loader,
                          templar=None, shared_loader_obj=None)
    result = action.run(task_vars=task_vars)
    assert not connection.method_calls, "the plugin used a connection"
    return result


def test_there_are_at_least_68_cases():
    assert len(CASES) >= 68


@pytest.mark.parametrize("case", CASES)
def test_bad_inventory_gives_exactly_the_expected_messages(case, tmp_path):
    inventory, expected = prepare(BAD / case, tmp_path)
    result = run_plugin(inventory)
    assert result["failed"] is True
    assert result["problems"] == expected
    assert result["msg"].splitlines()[1:] == ["- " + line for line in expected]
    assert not any("example-only-secret" in line or "another-example-secret" in line for line in result["problems"])


@pytest.mark.parametrize("case", GOOD_CASES)
def test_good_inventory_is_valid(case, tmp_path):
    inventory, _expected = prepare(GOOD / case, tmp_path)
    result = run_plugin(inventory)
    assert result["problems"] == []
    assert result["msg"] == "the inventory is valid"


def test_a_vault_encrypted_key_file_is_read_as_the_role_reads_it(tmp_path):
    """The role reads the key with the file lookup, which decrypts ansible-vault files; so does the validator."""
    inventory, _expected = prepare(GOOD / "ingress_site_certificate", tmp_path)
    key = tmp_path / "files" / "leaf.key"
    plain = key.read_bytes()
    key.write_bytes(VaultLib([("default", VaultSecret(b"unit-test-vault-password"))]).encrypt(plain))
    assert run_plugin(inventory, vault_password=b"unit-test-vault-password")["problems"] == []
    problems = run_plugin(inventory)["problems"]
    assert len(problems) == 1
    assert problems[0].startswith(
        "platform_ingress_tls_key (group all): '%s' cannot be read on the controller (" % key)
    assert "PRIVATE KEY" not in problems[0] and "ANSIBLE_VAULT" not in problems[0]


@pytest.mark.parametrize("environment", SHIPPED)
def test_shipped_inventory_is_valid_once_secrets_are_replaced(environment):
    result = run_plugin(ROOT / "inventories" / environment / "hosts.yml", extra_vars=REPLACED_SECRETS)
    assert result["problems"] == []
    assert not result.get("failed")
    assert result["summary"]["environment"] == environment.split("-")[0]


@pytest.mark.parametrize("environment", ["lab", "lab-ha", "lab-scale", "development"])
def test_lab_and_development_accept_the_placeholders(environment):
    assert run_plugin(ROOT / "inventories" / environment / "hosts.yml")["problems"] == []


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_staging_and_production_refuse_the_placeholders(environment):
    problems = run_plugin(ROOT / "inventories" / environment / "hosts.yml")["problems"]
    assert problems == [
        "%s (group all): '********' is the shipped placeholder; replace it with an ansible-vault encrypted value "
        "before deploying %s" % (name, environment) for name in SECRETS
    ]


def test_shipped_topologies():
    counts = {}
    for environment in SHIPPED:
        summary = run_plugin(ROOT / "inventories" / environment / "hosts.yml", extra_vars=REPLACED_SECRETS)["summary"]
        counts[environment] = (len(summary["control_planes"]), len(summary["workers"]))
    assert counts["production"][0] == 3 and counts["production"][1] >= 4
    assert counts["staging"][0] == 3
    assert counts["development"][0] == 1
    assert counts["lab"] == (1, 2)
    assert counts["lab-ha"] == (3, 2)
    assert counts["lab-scale"] == (1, 3)


def test_lab_pins_the_version_and_allows_cgroup_v1():
    result = run_plugin(ROOT / "inventories" / "lab" / "hosts.yml")
    pinned = (ROOT / "inventories" / "lab" / "group_vars" / "all" / "kubernetes.yml").read_text()
    assert 'platform_kubernetes_version: "%s"' % result["summary"]["kubernetes_version"] in pinned
    assert result["summary"]["profile"]["resources"]["level"] == "minimal"


def test_problems_can_be_returned_without_failing():
    result = run_plugin(BAD / "many_problems" / "hosts.yml", args={"fail_on_problems": False})
    assert not result["failed"]
    assert len(result["problems"]) > 5


def test_extra_known_variables_are_accepted():
    result = run_plugin(BAD / "misspelled_group_variable" / "hosts.yml",
                        args={"extra_known_variables": ["platform_pod_netwrok"]})
    assert result["problems"] == []


def test_bad_arguments_fail():
    result = run_plugin(BAD / "many_problems" / "hosts.yml", args={"fail_on_problem": True})
    assert result["failed"]
    assert "fail_on_problem" in result["msg"]


def test_variables_that_cannot_be_templated_are_reported():
    result = run_plugin(FIXTURES / "untemplatable" / "hosts.yml")
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("platform_image_repository (group all): ")
    assert result["problems"] == [
        "platform_image_repository (group all): its template cannot be rendered ('undefined_mirror_host' is undefined)"]


def test_role_specs_are_read_from_the_collection_next_to_the_plugin():
    assert pathlib.Path(ROLES_DIR).resolve() == (ROOT / "roles").resolve()
    specs = load_role_specs()
    assert specs.roles == sorted(path.parent.parent.name for path in (ROOT / "roles").glob("[!_]*/meta/argument_specs.yml"))
    assert specs.role_of("cluster_nodes_labels") == "cluster_nodes"


def test_a_role_added_later_is_validated_without_new_code(tmp_path):
    (tmp_path / "app_cache" / "meta").mkdir(parents=True)
    (tmp_path / "app_cache" / "meta" / "argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    options:\n      app_cache_size:\n        type: int\n")
    (tmp_path / "no_specs" / "meta").mkdir(parents=True)
    specs = load_role_specs(str(tmp_path))
    assert specs.roles == ["app_cache"]
    assert specs.specs_of("app_cache_size") == [{"type": "int"}]


def test_unreadable_argument_specs_fail_clearly(tmp_path):
    (tmp_path / "broken" / "meta").mkdir(parents=True)
    (tmp_path / "broken" / "meta" / "argument_specs.yml").write_text("argument_specs: [unclosed\n")
    with pytest.raises(AnsibleError, match="cannot read the argument specs of role broken"):
        load_role_specs(str(tmp_path))


def test_inventory_directories(tmp_path):
    (tmp_path / "prod").mkdir()
    (tmp_path / "prod" / "hosts.yml").write_text("---\n")
    (tmp_path / "extra").mkdir()
    one = str(tmp_path / "prod" / "hosts.yml")
    assert inventory_dirs({"ansible_inventory_sources": [one]}) == [(str((tmp_path / "prod").resolve()), "")]
    assert inventory_dirs({"ansible_inventory_sources": [str(tmp_path / "prod"), one, "cp1,w1,"]}) == [
        (str((tmp_path / "prod").resolve()), "")]
    both = inventory_dirs({"ansible_inventory_sources": [one, str(tmp_path / "extra")]})
    assert [shown for _directory, shown in both] == [str((tmp_path / name).resolve()) + "/" for name in ("prod", "extra")]
    hostvars = {"cp1": {"inventory_dir": str(tmp_path / "prod")}, "w1": {"inventory_dir": str(tmp_path / "prod")}}
    assert inventory_dirs({"groups": {"all": ["cp1", "w1"]}, "hostvars": hostvars}) == [
        (str((tmp_path / "prod").resolve()), "")]
    assert inventory_dirs({}) == []


def test_ignored_files_are_found_next_to_the_inventory(tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "development", inventory)
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "development-w3.yml").write_text("---\ncluster_nodes_labels: {}\n")
    result = run_plugin(inventory / "hosts.yml")
    assert result["problems"] == [
        "host_vars/development-w3.yml: the inventory has no host development-w3; did you mean development-w2? Ansible "
        "silently ignores host_vars/<name> when <name> is not a host of the inventory"]
