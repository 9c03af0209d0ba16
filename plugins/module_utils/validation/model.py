# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the validator knows about an inventory, and how it names places in it."""

from collections.abc import Mapping

MASK = "'********'"

# When several groups hold exactly the same hosts, the first one of this
# list names the place where a value comes from.
_GROUP_PREFERENCE = ("all", "k8s_cluster", "control_plane", "workers", "etcd")


class Unreadable:
    """A variable whose template could not be rendered."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "Unreadable(%r)" % self.reason

    def __eq__(self, other):
        return isinstance(other, Unreadable) and other.reason == self.reason

    def __hash__(self):
        return hash(self.reason)


def plain(value):
    """Turn tagged or wrapped values into plain Python containers and scalars."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return dict((str(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def show(value, secret=False):
    """Render a value for a message; secrets are always masked."""
    if secret:
        return MASK
    if isinstance(value, Unreadable):
        return "(a template that cannot be rendered)"
    return repr(plain(value))


class InventoryView:
    """Groups and the ``platform_*``/``ansible_host`` variables of every host.

    ``groups`` maps group names to host names (as the ``groups`` magic
    variable does); ``hostvars`` maps host names to their variables.
    """

    def __init__(self, groups, hostvars):
        self.groups = dict((name, list(hosts)) for name, hosts in groups.items())
        self.groups.setdefault("all", sorted(hostvars))
        self.hostvars = dict((host, dict(variables)) for host, variables in hostvars.items())
        self.hosts = list(self.groups["all"])

    def members(self, group):
        """Return the hosts of ``group`` (an empty list when it does not exist)."""
        return list(self.groups.get(group, []))

    def groups_of(self, host):
        """Return the groups ``host`` belongs to, 'all' and 'ungrouped' left out."""
        return [name for name, hosts in self.groups.items() if host in hosts and name not in ("all", "ungrouped")]

    def label(self, hosts):
        """Name the place that holds ``hosts``: a group with exactly those hosts, or the hosts."""
        wanted = set(hosts)
        if not wanted:
            return "group all"
        candidates = [name for name, members in self.groups.items()
                      if name != "ungrouped" and set(members) == wanted]
        for name in _GROUP_PREFERENCE:
            if name in candidates:
                return "group %s" % name
        if candidates:
            return "group %s" % sorted(candidates)[0]
        ordered = [host for host in self.hosts if host in wanted]
        if len(ordered) == 1:
            return "host %s" % ordered[0]
        return "hosts %s" % ", ".join(ordered)

    def value_groups(self, name):
        """Split the hosts that define ``name`` by value: a list of (value, hosts)."""
        found = []
        for host in self.hosts:
            variables = self.hostvars.get(host, {})
            if name not in variables:
                continue
            value = variables[name]
            for entry in found:
                if type(entry[0]) is type(value) and entry[0] == value:
                    entry[1].append(host)
                    break
            else:
                found.append((value, [host]))
        return found

    def defined_names(self):
        """Return every variable name defined on any host, in a stable order."""
        names = set()
        for variables in self.hostvars.values():
            names.update(variables)
        return sorted(names)


class Findings:
    """Messages about variables, each kept with the hosts it applies to.

    ``add`` may be called once per host (or per group of hosts); the same
    text about the same variable is reported once, naming the place that
    holds all of its hosts as ``InventoryView.label`` does.
    """

    def __init__(self):
        self._hosts = {}

    def add(self, name, hosts, text):
        """Record that ``text`` holds for the variable ``name`` on ``hosts``."""
        found = self._hosts.setdefault((name, text), [])
        found.extend(host for host in hosts if host not in found)

    def messages(self, view):
        """Return ``<name> (<place>): <text>`` for each finding, in the order they were first added."""
        return ["%s (%s): %s" % (name, view.label(hosts), text) for (name, text), hosts in self._hosts.items()]


class Setting:
    """The resolved value of one cluster-wide variable."""

    def __init__(self, name, value, where, is_set, valid=True, parsed=None):
        self.name = name
        self.value = value
        self.where = where
        self.is_set = is_set
        self.valid = valid
        self.parsed = parsed

    def head(self):
        """The start of every message about this setting: ``name (place)``."""
        return "%s (%s)" % (self.name, self.where)
