"""Every role's public API (defaults/main.yml) and its argument_specs agree.

defaults/main.yml holds the defaults that run; meta/argument_specs.yml
documents them and makes Ansible check the values a role is given. For each
role and each public variable (prefixed with the role name; names starting
with ``__`` are private):

- the variable is an option of the ``main`` entry point, and every option of
  every entry point is a variable of defaults/main.yml (``_common`` excepted:
  its entry points take their inputs through ``vars:``);
- a literal default is the spec's ``default``, both files loaded with the
  same YAML loader, compared with their types (``1`` is not ``true``);
- a default that is a template has no ``default`` in the spec: the spec's
  description starts with "Derived from <X>.", the comment right above the
  variable in defaults/main.yml says the same sentence, and <X> names the
  platform_* and role variables the template uses (a lookup of the
  collection counts as the variables its documentation says it reads);
- every option (suboptions included) has a description and a type, and the
  type accepts the literal default as it is, without conversion
  (ArgumentSpecValidator, plus a check of the loaded value's own type).

Each case is one role and one variable, so that a failure names both.
"""
import pathlib
import re

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/meta/main.yml"))
# Roles without public variables: their entry points take inputs through vars:.
INTERNAL_ROLES = {"_common"}

# Python types a YAML-loaded default of each spec type must already have.
NATIVE_TYPES = {
    "str": (str,),
    "path": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}

DERIVED = re.compile(r"derived from\b.*?\.(?=\s|$)", re.IGNORECASE | re.DOTALL)


def _lookup_reads():
    """{lookup FQCN: the variables it reads}, from each lookup's DOCUMENTATION (options' vars)."""
    reads = {}
    for path in sorted((ROOT / "plugins" / "lookup").glob("*.py")):
        text = path.read_text()
        found = re.search(r'^DOCUMENTATION = r?"""(.*?)"""', text, re.DOTALL | re.MULTILINE)
        documentation = (yaml.safe_load(found.group(1)) if found else None) or {}
        options = documentation.get("options") or {}
        names = {var["name"] for option in options.values() for var in option.get("vars") or []}
        reads["normaldance.platform." + path.stem] = names
    return reads


LOOKUP_READS = _lookup_reads()


def _load(path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


def _defaults(role):
    return _load(ROOT / "roles" / role / "defaults" / "main.yml") or {}


def _specs(role):
    data = _load(ROOT / "roles" / role / "meta" / "argument_specs.yml") or {}
    return data.get("argument_specs") or {}


def _is_template(value):
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _same(a, b):
    """Equal values of equal types, all the way down (so True != 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _text(description):
    if isinstance(description, list):
        return " ".join(str(d) for d in description)
    return str(description or "")


def _comment_above(role, name):
    """The comment lines directly above ``name:`` in defaults/main.yml, joined."""
    lines = (ROOT / "roles" / role / "defaults" / "main.yml").read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(name + ":"))
    comment = []
    for line in reversed(lines[:index]):
        if not line.startswith("#"):
            break
        comment.insert(0, line.lstrip("#").strip())
    return " ".join(comment)


def _native(value, spec_type):
    """Whether a loaded value already is of spec_type (None: type not checked)."""
    wanted = NATIVE_TYPES.get(spec_type)
    if wanted is None:
        return None
    if isinstance(value, bool) and bool not in wanted:
        return False
    return isinstance(value, wanted)


def _derived_sentence(text):
    found = DERIVED.search(text)
    return " ".join(found.group(0).split()) if found else None


def _sources(role, text):
    """Inventory (platform_*) and public role variables named in text."""
    # Not the collection's own plugins (normaldance.platform.platform_image is a filter).
    names = re.findall(rf"(?<!normaldance\.platform\.)\b(?:platform|{re.escape(role)})_\w+", text)
    return {name for name in names if not name.startswith("__")}


def _template_sources(role, template):
    """The variables a default's template uses: those it names, and those its lookups read."""
    names = _sources(role, template)
    for lookup, reads in LOOKUP_READS.items():
        if re.search(r"lookup\(\s*['\"]%s['\"]" % re.escape(lookup), template):
            names |= {name for name in reads if _sources(role, name)}
    return names


def _undocumented(options, prefix=""):
    """Options (suboptions included) without a description or a type."""
    missing = []
    for name, option in (options or {}).items():
        if not _text(option.get("description")).strip():
            missing.append(f"{prefix}{name}: no description")
        if not option.get("type"):
            missing.append(f"{prefix}{name}: no type")
        missing.extend(_undocumented(option.get("options"), f"{prefix}{name}."))
    return missing


def _option_cases():
    for role in ROLES:
        for entry, spec in _specs(role).items():
            for name in (spec or {}).get("options") or {}:
                yield pytest.param(role, entry, name, id=f"{role}:{entry}:{name}")


def _default_cases():
    for role in ROLES:
        for name in _defaults(role):
            yield pytest.param(role, name, id=f"{role}:{name}")


OPTION_CASES = list(_option_cases())
DEFAULT_CASES = list(_default_cases())


@pytest.mark.parametrize("role", ROLES)
def test_role_has_argument_specs(role):
    specs = _specs(role)
    assert "main" in specs, f"{role}: meta/argument_specs.yml has no main entry point"
    if role in INTERNAL_ROLES:
        assert not _defaults(role), f"{role}: internal role with variables in defaults/main.yml"


@pytest.mark.parametrize(("role", "name"), DEFAULT_CASES)
def test_public_default_is_documented(role, name):
    if name.startswith("__"):
        return
    assert name.startswith(role + "_"), f"{role}: {name} is neither prefixed with the role name nor private (__)"
    options = _specs(role)["main"].get("options") or {}
    assert name in options, f"{role}: {name} is in defaults/main.yml but not in the main argument_specs"


@pytest.mark.parametrize(("role", "entry", "name"), OPTION_CASES)
def test_option_has_description_and_type(role, entry, name):
    option = _specs(role)[entry]["options"][name]
    assert not _undocumented({name: option}), f"{role} ({entry}): {_undocumented({name: option})}"


@pytest.mark.parametrize(("role", "entry", "name"), OPTION_CASES)
def test_option_default_is_the_real_default(role, entry, name):
    option = _specs(role)[entry]["options"][name]
    defaults = _defaults(role)
    if role in INTERNAL_ROLES:
        assert name not in defaults
        return
    assert name in defaults, f"{role} ({entry}): {name} is in argument_specs but not in defaults/main.yml"
    value = defaults[name]

    if _is_template(value):
        assert "default" not in option, (
            f"{role} ({entry}): {name} is derived ({value!r}); the spec must not give a literal default"
            f" (it has {option['default']!r})"
        )
        description = _text(option.get("description"))
        assert description.startswith("Derived from "), (
            f"{role} ({entry}): the description of {name} must start with 'Derived from <X>.'"
        )
        in_spec = _derived_sentence(description)
        in_defaults = _derived_sentence(_comment_above(role, name))
        assert in_defaults, f"{role}: the comment above {name} in defaults/main.yml must say 'derived from <X>'"
        assert in_spec.lower() == in_defaults.lower(), (
            f"{role} ({entry}): {name}: the spec says {in_spec!r}, defaults/main.yml says {in_defaults!r}"
        )
        assert _sources(role, in_spec) == _template_sources(role, value), (
            f"{role} ({entry}): {name} is computed from {sorted(_template_sources(role, value))} but documented as"
            f" derived from {sorted(_sources(role, in_spec))}"
        )
        return

    assert "default" in option, f"{role} ({entry}): {name} has no default in the spec; defaults/main.yml has {value!r}"
    assert _same(option["default"], value), (
        f"{role} ({entry}): {name}: spec default {option['default']!r}, defaults/main.yml {value!r}"
    )

    result = ArgumentSpecValidator({name: option}).validate({name: value})
    assert not result.error_messages, f"{role} ({entry}): {name}: {result.error_messages}"
    assert _native(value, option.get("type")) is not False, (
        f"{role} ({entry}): {name} is of type {option['type']} but its default {value!r} is a"
        f" {type(value).__name__}"
    )
    if option.get("type") == "list" and "elements" in option:
        wrong = [v for v in value if _native(v, option["elements"]) is False]
        assert not wrong, f"{role} ({entry}): {name} has elements {option['elements']} but holds {wrong!r}"
