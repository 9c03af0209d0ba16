# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin normaldance.platform.validate_inventory (documented in plugins/modules)."""

import os

import yaml

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.normaldance.platform.plugins.module_utils.platform_variables import PREFIX
from ansible_collections.normaldance.platform.plugins.module_utils.validation.argument_specs import RoleSpecs
from ansible_collections.normaldance.platform.plugins.module_utils.validation.controller_files import FileProblem
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import InventoryView, Unreadable, plain
from ansible_collections.normaldance.platform.plugins.module_utils.validation.runner import validate

ARGUMENT_SPEC = {
    "fail_on_problems": {"type": "bool", "default": True},
    "extra_known_variables": {"type": "list", "elements": "str", "default": []},
}

# The roles of this collection, next to plugins/ in a checkout and in an
# installed collection alike.
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_role_specs(roles_dir=ROLES_DIR):
    """Read meta/argument_specs.yml of every role under ``roles_dir`` into a RoleSpecs."""
    roles = {}
    for role in sorted(os.listdir(roles_dir)) if os.path.isdir(roles_dir) else []:
        for name in ("argument_specs.yml", "argument_specs.yaml"):
            path = os.path.join(roles_dir, role, "meta", name)
            if not os.path.isfile(path):
                continue
            try:
                with open(path, encoding="utf-8") as stream:
                    data = yaml.load(stream, Loader=_LOADER) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise AnsibleError("cannot read the argument specs of role %s (%s): %s" % (role, path, exc)) from exc
            roles[role] = data.get("argument_specs") or {}
            break
    return RoleSpecs(roles)


def _read(variables, name):
    try:
        return plain(variables[name])
    except AnsibleError as exc:
        return Unreadable(str(exc).splitlines()[0])


def inventory_view(task_vars, role_specs=None):
    """Build an InventoryView from the ``groups`` and ``hostvars`` of a task.

    It holds ``ansible_host``, the ``platform_*`` variables and, with
    ``role_specs``, every variable that carries a role's prefix.
    """
    groups = task_vars.get("groups", {})
    hostvars = task_vars.get("hostvars", {})
    hosts = list(groups.get("all", []))
    collected = {}
    for host in hosts:
        variables = hostvars[host]
        names = [name for name in variables
                 if name.startswith(PREFIX) or name == "ansible_host"
                 or (role_specs is not None and role_specs.role_of(name) is not None)]
        collected[host] = dict((name, _read(variables, name)) for name in names)
    return InventoryView(dict((name, list(members)) for name, members in groups.items()), collected)


def inventory_dirs(task_vars):
    """The directories next to which Ansible reads host_vars/ and group_vars/, with how messages name them.

    They come from ``ansible_inventory_sources`` (the -i arguments), else
    from the ``inventory_dir`` of the hosts. With one directory, messages
    name files relative to it; with several, by their full path.
    """
    directories = []
    sources = task_vars.get("ansible_inventory_sources")
    if sources:
        for source in sources:
            if not isinstance(source, str) or ("," in source and not os.path.exists(source)):
                continue
            directory = source if os.path.isdir(source) else os.path.dirname(source)
            directories.append(os.path.realpath(directory))
    else:
        hostvars = task_vars.get("hostvars", {})
        for host in task_vars.get("groups", {}).get("all", []):
            try:
                directory = hostvars[host].get("inventory_dir")
            except AnsibleError:
                directory = None
            if isinstance(directory, str) and directory:
                directories.append(os.path.realpath(directory))
    unique = []
    for directory in directories:
        if directory not in unique and os.path.isdir(directory):
            unique.append(directory)
    if len(unique) == 1:
        return [(unique[0], "")]
    return [(directory, directory.rstrip(os.sep) + os.sep) for directory in unique]


def file_reader(loader):
    """Read a file on the controller as the lookup ansible.builtin.file does: decrypted when ansible-vault encrypted."""
    def read(path):
        try:
            return loader.get_text_file_contents(path).encode("utf-8", "surrogateescape")
        except AnsibleError as exc:
            reason = (str(exc).splitlines() or [exc.__class__.__name__])[0]
            raise FileProblem("cannot be read on the controller (%s)" % reason) from exc
    return read


class ActionModule(ActionBase):
    """Validate the whole inventory on the controller; no host is contacted."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = {}
        result = super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, msg="; ".join(validation.error_messages))
            return result
        args = validation.validated_parameters
        role_specs = load_role_specs()
        report = validate(inventory_view(task_vars, role_specs), args["extra_known_variables"], role_specs,
                          inventory_dirs(task_vars), tuple(C.YAML_FILENAME_EXTENSIONS), file_reader(self._loader))
        problems = report["problems"]
        result["changed"] = False
        result["problems"] = problems
        if problems:
            result["msg"] = "%d problem%s in the inventory:\n%s" % (
                len(problems), "" if len(problems) == 1 else "s", "\n".join("- %s" % item for item in problems))
            result["failed"] = bool(args["fail_on_problems"])
        else:
            result["msg"] = "the inventory is valid"
            result["summary"] = dict((key, value) for key, value in report.items() if key != "problems")
        return result
