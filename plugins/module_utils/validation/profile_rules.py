# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment profile after overrides: keys, replicas, resources, durations."""

import difflib

from ansible_collections.normaldance.platform.plugins.module_utils import duration, profiles, quantity
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import show


def _same_kind(base, value):
    if isinstance(base, bool) or isinstance(value, bool):
        return isinstance(base, bool) and isinstance(value, bool)
    for kind in (int, str, list, dict):
        if isinstance(base, kind):
            return isinstance(value, kind)
    return True


def _kind_name(base):
    for kind, name in ((bool, "a boolean"), (int, "a whole number"), (str, "a string"), (list, "a list"), (dict, "a mapping")):
        if isinstance(base, kind):
            return name
    return "a value"


def _unknown_keys(base, overrides, path, head):
    problems = []
    for key, value in overrides.items():
        dotted = ".".join(path + [str(key)])
        if key not in base:
            close = difflib.get_close_matches(str(key), [str(item) for item in base], n=1, cutoff=0.6)
            hint = "; did you mean '%s'?" % ".".join(path + [close[0]]) if close else ";"
            problems.append("%s: key '%s' is not in the profile%s overrides may only change keys the profile has"
                            % (head, dotted, hint))
        elif not _same_kind(base[key], value):
            problems.append("%s: %s is %s; it must be %s like the profile's value"
                            % (head, dotted, show(value), _kind_name(base[key])))
        elif isinstance(value, dict):
            problems.extend(_unknown_keys(base[key], value, path + [str(key)], head))
    return problems


def check_profile(settings):
    """Report overrides that break the profile's rules; return (profile or None, problems)."""
    environment = settings["platform_environment"]
    overrides = settings["platform_profile_overrides"]
    if environment.parsed is None or overrides.parsed is None:
        return None, []
    name = environment.parsed
    head = overrides.head()
    problems = _unknown_keys(profiles.PROFILES[name], overrides.parsed, [], head)
    if problems:
        return None, problems
    profile = profiles.environment_profile(name, overrides.parsed)
    minimum = profiles.MINIMUM_REPLICAS[name]
    for component, count in profile["replicas"].items():
        if count < minimum:
            problems.append("%s: replicas.%s is %s; %s needs at least %d replica%s of every component"
                            % (head, component, show(count), name, minimum, "" if minimum == 1 else "s"))
    for component, spec in profile["resources"].items():
        if component == "level":
            continue
        for resource in ("cpu", "memory"):
            parsed = {}
            for kind in ("requests", "limits"):
                value = spec[kind][resource]
                try:
                    parsed[kind] = quantity.parse_quantity(value)
                except quantity.QuantityError:
                    problems.append(
                        "%s: resources.%s.%s.%s %s is not a Kubernetes quantity; use a number with an optional "
                        "suffix such as 250m, 512Mi, 2Gi or 1e9" % (head, component, kind, resource, show(value))
                    )
            if len(parsed) == 2 and parsed["requests"] > parsed["limits"]:
                problems.append(
                    "%s: resources.%s.requests.%s %s is more than resources.%s.limits.%s %s; a request must not exceed its limit"
                    % (head, component, resource, show(spec["requests"][resource]), component, resource,
                       show(spec["limits"][resource]))
                )
    for section, keys in profiles.DURATION_KEYS.items():
        for key in keys:
            value = profile[section][key]
            try:
                duration.parse_duration(value)
            except duration.DurationError:
                problems.append(
                    "%s: %s.%s %s is not a duration; use whole numbers with the units s, m, h, d or w, such as 12h or 30d"
                    % (head, section, key, show(value))
                )
    return profile, problems
