"""module_utils.platform_variables: the one list of platform_* variables and its documentation."""
import pathlib
import re

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils.platform_variables import PREFIX, SECRETS, VARIABLES

ROOT = pathlib.Path(__file__).resolve().parents[4]
# Variables of the platform_* roles (roles/platform_<name>/), checked against their argument specs.
ROLE_PREFIX = re.compile(r"^(%s)_" % "|".join(sorted(p.name for p in (ROOT / "roles").glob("platform_*"))))
DOCUMENTED = re.compile(r"^\| `(platform_[a-z0-9_]+)` \|", re.MULTILINE)


def test_docs_list_every_variable_once():
    documented = DOCUMENTED.findall((ROOT / "docs" / "variables.md").read_text())
    assert sorted(documented) == sorted(VARIABLES)
    assert len(documented) == len(set(documented))


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_every_variable_has_the_prefix_and_a_known_type(name):
    assert name.startswith(PREFIX)
    kinds = ("str", "bool", "port", "dict", "version", "cidr", "ip", "url", "registries", "strlist",
             "image_registry", "digests")
    assert VARIABLES[name]["type"] in kinds
    assert VARIABLES[name]["scope"] in ("cluster", "host")


def test_secrets_have_no_default():
    assert SECRETS
    for name in SECRETS:
        assert VARIABLES[name]["default"] is None and VARIABLES[name]["required"]


@pytest.mark.parametrize("environment", ["lab", "lab-ha", "development", "staging", "production"])
def test_each_variable_is_set_in_one_place_per_inventory(environment):
    seen = {}
    for path in sorted((ROOT / "inventories" / environment).rglob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        if path.name == "hosts.yml":
            continue
        for name in data:
            assert name not in seen, "%s is set in %s and in %s" % (name, seen.get(name), path)
            seen[name] = path
            if name.startswith(PREFIX) and not ROLE_PREFIX.match(name):
                assert name in VARIABLES, name
