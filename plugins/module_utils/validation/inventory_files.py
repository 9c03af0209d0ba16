# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files next to the inventory that Ansible reads without a word, or ignores without one.

Ansible reads ``host_vars/<name>`` and ``group_vars/<name>`` (a file with
one of the YAML extensions or none, or a directory) next to each inventory
source, for each host and group the inventory has. A file named after a
host or group that does not exist (a typo, a host that was renamed) is
ignored silently, and so is ``<name>.yml`` when ``<name>`` (or an earlier
extension) exists too: only the first of ``<name>``, ``<name>.yml``,
``<name>.yaml``, ``<name>.json`` is read. Entries that look deliberately
left out (hidden, backups, README, other extensions) are not reported.
"""

import difflib
import os

DEFAULT_EXTENSIONS = (".yml", ".yaml", ".json")

_KINDS = (
    # directory, what its entries are named after, the other directory and what that one holds
    ("host_vars", "host", "group_vars", "group"),
    ("group_vars", "group", "host_vars", "host"),
)


def _candidates(entry, extensions):
    """The names Ansible would read ``entry`` for: the entry itself, or without one of the extensions."""
    found = [entry]
    for extension in extensions:
        if extension and entry.endswith(extension) and len(entry) > len(extension):
            found.append(entry[:-len(extension)])
    return found


def _may_be_vars(path, entry, extensions, isdir):
    """Whether ``entry`` looks meant to be read: a directory, or a file without extension or with a YAML one.

    Hidden entries, editor backups (``~``), README files and files with other
    extensions (``.bak``, ``.md``, ...) are taken as deliberately left out.
    """
    if entry.startswith(".") or entry.endswith("~") or entry.upper().startswith("README"):
        return False
    extension = os.path.splitext(entry)[1]
    return not extension or extension in extensions or isdir(os.path.join(path, entry))


def check_inventory_files(directories, groups, hosts, extensions=DEFAULT_EXTENSIONS, listdir=os.listdir,
                          isdir=os.path.isdir):
    """Report the entries of host_vars/ and group_vars/ that Ansible does not read.

    ``directories`` is a list of (directory, how messages name it: a prefix
    such as '' or 'inventories/production/'); ``groups`` and ``hosts`` are
    the names the inventory has.
    """
    known = {"host": set(hosts) | {"localhost"}, "group": set(groups)}
    order = [""] + list(extensions)
    problems = []
    for directory, shown in directories:
        for subdir, kind, other_dir, other_kind in _KINDS:
            path = os.path.join(directory, subdir)
            if not isdir(path):
                continue
            entries = sorted(entry for entry in listdir(path) if _may_be_vars(path, entry, extensions, isdir))
            present = set(entries)
            for entry in entries:
                where = "%s%s/%s" % (shown, subdir, entry)
                names = [name for name in _candidates(entry, extensions) if name in known[kind]]
                if not names:
                    name = _candidates(entry, extensions)[-1]
                    close = difflib.get_close_matches(name, sorted(known[kind]), n=1, cutoff=0.6)
                    if name in known[other_kind]:
                        hint = "; %s is a %s, whose variables go in %s/;" % (name, other_kind, other_dir)
                    elif close:
                        hint = "; did you mean %s?" % close[0]
                    else:
                        hint = ";"
                    problems.append("%s: the inventory has no %s %s%s Ansible silently ignores %s/<name> when <name> "
                                    "is not a %s of the inventory" % (where, kind, name, hint, subdir, kind))
                    continue
                name = names[0]
                first = next(name + extension for extension in order if name + extension in present)
                if first != entry:
                    problems.append("%s: not read, because %s%s/%s is read instead; Ansible reads only the first of %s "
                                    "in %s/" % (where, shown, subdir, first,
                                                ", ".join(name + extension for extension in order), subdir))
    return problems
