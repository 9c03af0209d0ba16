# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables set in the inventory, checked against the roles' ``meta/argument_specs.yml``.

A role variable carries its role's name as prefix (``cluster_nodes_labels``
belongs to the role ``cluster_nodes``). Every such variable the inventory
sets is checked against the options of all entry points of its role: the
type, ``choices``, ``elements``, and the ``options`` of mappings and of
lists of mappings with their required keys. Nothing here knows a role: the
argument specs are the only source, so a new role is checked as soon as it
has its ``meta/argument_specs.yml``. Roles whose name starts with ``_`` are
internal and take no inventory variables.

The type rules accept what Ansible's own role argument validation accepts,
except conversions that would hand the role a value of another shape than
the spec says (the role receives the value as written, not converted):

- ``str`` and ``path``: a string; numbers and booleans must be quoted;
- ``bool``: true or false, or a string Ansible reads as a boolean (``-e name=true``);
- ``int``: a whole number, or a string of one (``-e name=3``); ``float``: a number or a string of one;
- ``list``: a list (a comma-separated string is refused); ``dict``: a mapping;
- ``raw``: anything; other types: whatever Ansible's type check accepts.

``null`` is accepted only for an option without a default that is not
required. A value that passes these rules is also run through Ansible's
``ArgumentSpecValidator``, so that anything the role itself would refuse
is refused here too.
"""

import difflib
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS
from ansible.module_utils.parsing.convert_bool import BOOLEANS

from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import MASK, Findings, Unreadable, show

# Option names whose values are never shown, whatever the spec says.
_SECRET_NAME = re.compile(r"password|passphrase|secret|access_key|(^|_)token$")
_WHOLE_NUMBER = re.compile(r"\s*[-+]?[0-9]+\s*")
_BOOLEAN_STRINGS = frozenset(item for item in BOOLEANS if isinstance(item, str))


class RoleSpecs:
    """The options of every role, from the ``argument_specs`` of each role's ``meta/argument_specs.yml``.

    ``roles`` maps a role name to its ``argument_specs`` mapping (entry point
    name to entry point, each with ``options``).
    """

    def __init__(self, roles):
        self._options = {}
        for role in sorted(roles):
            if role.startswith("_"):
                continue
            options = {}
            entries = roles[role] or {}
            for entry in sorted(entries):
                for name, spec in ((entries[entry] or {}).get("options") or {}).items():
                    found = options.setdefault(name, [])
                    if spec not in found:
                        found.append(spec)
            self._options[role] = options
        # The longest prefix wins, should one role's name start with another's.
        self._prefixes = sorted(self._options, key=len, reverse=True)

    @property
    def roles(self):
        """The roles that take inventory variables, sorted."""
        return sorted(self._options)

    def role_of(self, name):
        """Return the role whose prefix ``name`` carries, or None."""
        for role in self._prefixes:
            if name.startswith(role + "_"):
                return role
        return None

    def names_of(self, role):
        """Return the option names of ``role`` over all its entry points, sorted."""
        return sorted(self._options.get(role, {}))

    def specs_of(self, name):
        """Return the distinct specs of the variable ``name`` (one per entry point that differs)."""
        role = self.role_of(name)
        return list(self._options.get(role, {}).get(name, [])) if role else []

    def default_of(self, name, fallback=None):
        """Return the argument spec default of ``name`` (of its first entry point), else ``fallback``."""
        specs = self.specs_of(name)
        return specs[0].get("default", fallback) if specs else fallback

    @staticmethod
    def source(role):
        """Where the options of ``role`` are written down, for messages."""
        return "roles/%s/meta/argument_specs.yml" % role


def _is_secret(name, spec):
    return bool(spec.get("no_log")) or bool(_SECRET_NAME.search(str(name)))


def masked(value, spec, secret=False):
    """Return ``value`` with every secret part replaced by the mask, for messages."""
    if secret:
        return MASK.strip("'")
    if isinstance(value, dict):
        options = (spec.get("options") or {}) if isinstance(spec, dict) else {}
        result = {}
        for key, item in value.items():
            sub = options.get(key, {})
            result[key] = masked(item, sub, _is_secret(key, sub))
        return result
    if isinstance(value, list):
        element = {"options": spec.get("options")} if isinstance(spec, dict) and spec.get("elements") == "dict" else {}
        return [masked(item, element) for item in value]
    return value


def _shown(value, spec, secret):
    return show(value, True) if secret else show(masked(value, spec))


def _choice_list(choices):
    return ", ".join(item if isinstance(item, str) and item else repr(item) for item in choices)


def _convert(kind, value):
    """Return (value as the role may use it, None) or (None, the rule it breaks)."""
    if kind == "raw":
        return value, None
    if kind in ("str", "path"):
        if isinstance(value, str):
            return value, None
        if isinstance(value, (bool, int, float)):
            return None, "is not a string; write it in quotes"
        return None, "is not a string"
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower().strip() in _BOOLEAN_STRINGS:
            return value.lower().strip() in ("y", "yes", "on", "1", "true", "t"), None
        return None, "is not a boolean; write true or false"
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
            return int(value), None
        return None, "is not a whole number"
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), None
        if isinstance(value, str):
            try:
                return float(value), None
            except ValueError:
                pass
        return None, "is not a number"
    if kind == "list":
        if isinstance(value, list):
            return value, None
        return None, "is not a list"
    if kind == "dict":
        if isinstance(value, dict):
            return value, None
        return None, "is not a mapping"
    checker = DEFAULT_TYPE_VALIDATORS.get(kind)
    if checker is None:
        return value, None
    try:
        return checker(value), None
    except (TypeError, ValueError):
        return None, "is not of type %s" % kind


def _join(path, key):
    if isinstance(key, int):
        return "%s[%d]" % (path, key)
    return "%s.%s" % (path, key) if path else str(key)


def _say(path, text):
    return "%s %s" % (path, text) if path else text


def check_value(spec, value, path="", secret=False, source="the role's argument spec"):
    """Check ``value`` against one option ``spec``; return (value as converted, [messages])."""
    secret = secret or bool(spec.get("no_log"))
    kind = spec.get("type", "str")
    choices = spec.get("choices")
    if value is None:
        if spec.get("required") or spec.get("default") is not None:
            return None, [_say(path, "%s is empty (null); give a value, or leave it out to get the default" % show(None))]
        if choices is not None and None not in choices:
            return None, [_say(path, "%s is not one of %s" % (show(None), _choice_list(choices)))]
        return None, []
    converted, rule = _convert(kind, value)
    if rule:
        return None, [_say(path, "%s %s" % (_shown(value, spec, secret), rule))]
    problems = []
    elements = spec.get("elements")
    if kind == "list" and elements:
        element_spec = {"type": elements}
        if elements == "dict" and spec.get("options") is not None:
            element_spec["options"] = spec["options"]
        items = []
        for index, item in enumerate(converted):
            if item is None:
                found = [_say(_join(path, index), "%s is empty (null); a list element needs a value" % show(None))]
            else:
                item, found = check_value(element_spec, item, _join(path, index), secret, source)
            items.append(item)
            problems.extend(found)
        if problems:
            return None, problems
        converted = items
    if choices is not None:
        if kind == "list":
            for index, item in enumerate(converted):
                if item not in choices:
                    text = "%s is not one of %s" % (_shown(item, {}, secret), _choice_list(choices))
                    problems.append(_say(_join(path, index), text))
        elif converted not in choices:
            problems.append(_say(path, "%s is not one of %s" % (_shown(value, spec, secret), _choice_list(choices))))
        if problems:
            return None, problems
    if kind == "dict" and spec.get("options") is not None:
        converted, problems = _check_options(spec["options"], converted, path, secret, source)
    return converted, problems


def _check_options(options, mapping, path, secret, source):
    """Check the keys of ``mapping`` against ``options``; return (mapping with defaults, [messages])."""
    problems = []
    legal = {}
    for name, sub in options.items():
        legal[name] = name
        for alias in sub.get("aliases") or []:
            legal[alias] = name
    for key in mapping:
        if key not in legal:
            close = difflib.get_close_matches(str(key), sorted(legal), n=1, cutoff=0.6)
            hint = "; did you mean '%s'?" % close[0] if close else ";"
            problems.append(_say(path, "key '%s' is unknown%s the keys allowed are the options in %s" % (key, hint, source)))
    result = {}
    for name, sub in options.items():
        given = [key for key in mapping if legal.get(key) == name]
        if not given:
            if sub.get("required"):
                problems.append(_say(path or _shown(mapping, {"options": options}, secret),
                                     "has no key '%s', which is required" % name))
            elif "default" in sub:
                result[name] = sub["default"]
            continue
        done, found = check_value(sub, mapping[given[0]], _join(path, name), secret or _is_secret(name, sub), source)
        problems.extend(found)
        result[name] = done
    return result, problems


def _ansible_refuses(name, spec, value):
    """Return Ansible's own first complaint about ``value``, or None."""
    try:
        result = ArgumentSpecValidator({name: spec}).validate({name: value})
    except Exception as exc:  # pylint: disable=broad-except  # a spec Ansible cannot read is the role's problem
        return str(exc) or exc.__class__.__name__
    return result.error_messages[0] if result.error_messages else None


def _has_secret(spec):
    if spec.get("no_log"):
        return True
    return any(_is_secret(key, sub) or _has_secret(sub) for key, sub in (spec.get("options") or {}).items())


def unknown_role_variables(view, specs, extra_known=()):
    """Report every name with a role's prefix that is not an option of that role."""
    known = set(extra_known)
    problems = []
    for name in view.defined_names():
        role = specs.role_of(name)
        if role is None or name in known or specs.specs_of(name):
            continue
        hosts = [host for host in view.hosts if name in view.hostvars.get(host, {})]
        close = difflib.get_close_matches(name, specs.names_of(role), n=1, cutoff=0.6)
        hint = "; did you mean %s?" % close[0] if close else ";"
        problems.append(
            "%s (%s): unknown variable%s every %s_* variable must be an option in %s"
            % (name, view.label(hosts), hint, role, specs.source(role))
        )
    return problems


def check_role_variables(view, specs):
    """Check each role variable the inventory sets, for every host.

    Return (problems, values): ``values`` maps each host to the role
    variables that passed, converted as the spec's type says (for the
    rules that look further, such as ``role_rules``).
    """
    findings = Findings()
    values = dict((host, {}) for host in view.hosts)
    for name in view.defined_names():
        spec_list = specs.specs_of(name)
        if not spec_list:
            continue
        role = specs.role_of(name)
        source = specs.source(role)
        for value, hosts in view.value_groups(name):
            if isinstance(value, Unreadable):
                findings.add(name, hosts, "its template cannot be rendered (%s)" % value.reason)
                continue
            messages = []
            converted = None
            for spec in spec_list:
                secret = _is_secret(name, spec)
                converted, found = check_value(spec, value, secret=secret, source=source)
                if not found:
                    refusal = _ansible_refuses(name, spec, value)
                    if refusal:
                        detail = "" if secret or _has_secret(spec) else " (%s)" % refusal
                        found = ["%s is refused by the argument spec of role %s%s"
                                 % (_shown(value, spec, secret), role, detail)]
                messages.extend(message for message in found if message not in messages)
            for message in messages:
                findings.add(name, hosts, message)
            if not messages:
                for host in hosts:
                    values[host][name] = converted
    return findings.messages(view), values
