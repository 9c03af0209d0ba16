"""lookup admin_kubeconfig: the one default of the admin kubeconfig's path on the controller."""
import pytest
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template

INVENTORY = "/srv/inventories/prod"
HOSTVARS = {"cp1": {"inventory_dir": INVENTORY}}


def lookup(variables, *terms):
    loader = DataLoader()
    plugin = lookup_loader.get("normaldance.platform.admin_kubeconfig", loader=loader,
                               templar=Templar(loader=loader, variables=variables))
    return plugin.run(list(terms), variables)


@pytest.mark.parametrize("variables,expected", [
    # An inventory host: its inventory directory.
    ({"inventory_dir": INVENTORY, "playbook_dir": "/pb"}, INVENTORY + "/artifacts/admin.conf"),
    # localhost outside the inventory: the first inventory host's directory.
    ({"inventory_dir": None, "groups": {"all": ["cp1"]}, "hostvars": HOSTVARS, "playbook_dir": "/pb"},
     INVENTORY + "/artifacts/admin.conf"),
    # No inventory directory anywhere: the playbook directory.
    ({"groups": {"all": []}, "playbook_dir": "/pb"}, "/pb/artifacts/admin.conf"),
    # The inventory's value wins, templated (inventory values are trusted templates) and with ~ expanded.
    ({"inventory_dir": INVENTORY, "platform_kubeconfig": "/etc/kube/prod.conf"}, "/etc/kube/prod.conf"),
    ({"inventory_dir": INVENTORY, "platform_kubeconfig": trust_as_template("{{ inventory_dir }}/kube/admin.conf")},
     INVENTORY + "/kube/admin.conf"),
    ({"inventory_dir": INVENTORY, "platform_kubeconfig": "~/prod.conf"}, "HOME/prod.conf"),
    # Empty means not set.
    ({"inventory_dir": INVENTORY, "platform_kubeconfig": ""}, INVENTORY + "/artifacts/admin.conf"),
], ids=["inventory-host", "localhost", "no-inventory", "set", "templated", "home", "empty"])
def test_path(variables, expected, monkeypatch):
    monkeypatch.setenv("HOME", "/home/ops")
    assert lookup(variables) == [expected.replace("HOME", "/home/ops")]


def test_terms_are_refused():
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        lookup({"inventory_dir": INVENTORY}, "admin.conf")


def test_nothing_known_is_an_error():
    with pytest.raises(AnsibleLookupError, match="set platform_kubeconfig"):
        lookup({})
