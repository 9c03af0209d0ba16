"""Every role's public API (defaults/main.yml) and its argument_specs agree.

defaults/main.yml documents the variables a user may set;
meta/argument_specs.yml makes Ansible check them. A variable in one and not
the other is either undocumented or unchecked.
"""
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent for p in ROOT.glob("roles/*/meta/main.yml"))


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_and_argument_specs_agree(role):
    specs_file = role / "meta" / "argument_specs.yml"
    assert specs_file.exists(), f"{role.name} has no meta/argument_specs.yml"
    specs = yaml.safe_load(specs_file.read_text())["argument_specs"]
    defaults_file = role / "defaults" / "main.yml"
    defaults = set((yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {})
    if role.name == "_common":
        # Internal: its entry points take inputs through `vars:`, not defaults.
        assert not defaults
        return
    options = set(specs["main"].get("options", {}))
    assert defaults == options, (
        f"{role.name}: only in defaults/main.yml: {sorted(defaults - options)}; "
        f"only in argument_specs: {sorted(options - defaults)}"
    )
    for name in defaults:
        assert name.startswith(role.name + "_"), f"{role.name}: {name} is not prefixed with the role name"
