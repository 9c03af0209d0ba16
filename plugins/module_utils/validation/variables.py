# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names, types and consistency of the ``platform_*`` variables."""

import difflib
import re
from urllib.parse import urlsplit

from ansible_collections.normaldance.platform.plugins.module_utils import images, networks
from ansible_collections.normaldance.platform.plugins.module_utils import kubernetes_version
from ansible_collections.normaldance.platform.plugins.module_utils.platform_variables import PREFIX, VARIABLES
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import Setting, Unreadable, show

_REGISTRY = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?")
_IMAGE_REGISTRY = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._/-][a-z0-9]+)*)?")


def unknown_variables(view, extra_known=(), role_of=None):
    """Report every ``platform_*`` name that is not a known variable.

    Names that ``role_of`` gives a role for (the variables of the
    ``platform_*`` roles) are that role's, checked against its argument specs.
    """
    known = set(VARIABLES) | set(extra_known)
    problems = []
    for name in view.defined_names():
        if not name.startswith(PREFIX) or name in known or (role_of and role_of(name)):
            continue
        hosts = [host for host in view.hosts if name in view.hostvars.get(host, {})]
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = "; did you mean %s?" % close[0] if close else ";"
        problems.append(
            "%s (%s): unknown variable%s every platform_* variable must be one of those listed in docs/variables.md"
            % (name, view.label(hosts), hint)
        )
    return problems


def _check_type(name, value):
    """Return (parsed value, None) or (None, the rule the value breaks)."""
    spec = VARIABLES[name]
    kind = spec["type"]
    if isinstance(value, Unreadable):
        return None, "its template cannot be rendered (%s)" % value.reason
    if kind == "str":
        if not isinstance(value, str) or not value:
            return None, "is not a non-empty string"
        if spec["choices"] and value not in spec["choices"]:
            return None, "is not one of %s" % ", ".join(spec["choices"])
        return value, None
    if kind == "bool":
        if not isinstance(value, bool):
            return None, "is not a boolean; write true or false without quotes"
        return value, None
    if kind == "port":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            return None, "is not a port; it must be a whole number from 1 to 65535"
        return value, None
    if kind == "dict":
        if not isinstance(value, dict):
            return None, "is not a mapping"
        return value, None
    if kind == "version":
        try:
            return kubernetes_version.parse_version(value), None
        except kubernetes_version.VersionError:
            return None, "is not a version of the form X.Y.Z (a quoted string such as '1.36.0', without a 'v')"
    if kind == "cidr":
        try:
            return networks.parse_network(value), None
        except networks.AddressError as exc:
            return None, "%s; it must be a network address with a prefix length, such as '10.244.0.0/16'" % exc
    if kind == "ip":
        try:
            return networks.parse_address(value), None
        except networks.AddressError as exc:
            return None, "%s; it must be a single address such as '10.210.0.10'" % exc
    if kind == "url":
        parts = urlsplit(value) if isinstance(value, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
            return None, "is not an http:// or https:// URL"
        return value, None
    if kind == "strlist":
        if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
            return None, "is not a non-empty list of non-empty strings"
        return value, None
    if kind == "image_registry":
        if not isinstance(value, str) or not _IMAGE_REGISTRY.fullmatch(value):
            return None, ("is not a registry address of the form host, host:port or host[:port]/path "
                          "(such as registry.example.com/mirror)")
        return value, None
    if kind == "digests":
        if not isinstance(value, dict):
            return None, "is not a mapping of image names to digests"
        unknown = sorted(str(key) for key in value if key not in images.IMAGES)
        if unknown:
            return None, "names %s, which %s not among the collection's images (%s)" % (
                ", ".join(unknown), "is" if len(unknown) == 1 else "are", ", ".join(sorted(images.IMAGES)))
        bad = sorted(str(key) for key, digest in value.items() if not images.DIGEST.match(str(digest)))
        if bad:
            return None, "has a malformed digest for %s; a digest is sha256: followed by 64 lower-case hex digits" % (
                ", ".join(bad))
        return value, None
    if kind == "registries":
        if not isinstance(value, list) or not all(isinstance(item, str) and _REGISTRY.fullmatch(item) for item in value):
            return None, "is not a list of registry addresses of the form host or host:port"
        return value, None
    raise ValueError("unknown variable type %s" % kind)


def resolve_settings(view):
    """Resolve each cluster-wide variable to one Setting; report type and consistency problems."""
    problems = []
    settings = {}
    for name, spec in VARIABLES.items():
        if spec["scope"] != "cluster":
            continue
        found = view.value_groups(name)
        secret = spec["secret"]
        if not found:
            setting = Setting(name, spec["default"], "default" if not spec["required"] else "group all", False)
            if spec["required"] and not secret:
                problems.append("%s (group all): not set; this variable is required" % name)
                setting.valid = False
            elif spec["default"] is not None:
                setting.parsed = _check_type(name, spec["default"])[0]
            settings[name] = setting
            continue
        if len(found) > 1:
            places = "; ".join("%s on %s" % (show(value, secret), view.label(hosts)) for value, hosts in found)
            problems.append(
                "%s (group all): has different values (%s); a cluster-wide variable must have one value for every host"
                % (name, places)
            )
            settings[name] = Setting(name, found[0][0], "group all", True, valid=False)
            continue
        value, hosts = found[0]
        setting = Setting(name, value, view.label(hosts), True)
        missing = [host for host in view.hosts if host not in hosts]
        if missing:
            problems.append(
                "%s (%s): not set on %s; a cluster-wide variable must be set for every host"
                % (name, setting.where, view.label(missing))
            )
            setting.valid = False
        parsed, rule = _check_type(name, value)
        if rule and isinstance(value, Unreadable):
            problems.append("%s: %s" % (setting.head(), rule))
            setting.valid = False
        elif rule:
            problems.append("%s: %s %s" % (setting.head(), show(value, secret), rule))
            setting.valid = False
        else:
            setting.parsed = parsed
        settings[name] = setting
    return settings, problems
