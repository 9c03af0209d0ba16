# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin normaldance.platform.validate_inventory (documented in plugins/modules)."""

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.normaldance.platform.plugins.module_utils.platform_variables import PREFIX
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import InventoryView, Unreadable, plain
from ansible_collections.normaldance.platform.plugins.module_utils.validation.runner import validate

ARGUMENT_SPEC = {
    "fail_on_problems": {"type": "bool", "default": True},
    "extra_known_variables": {"type": "list", "elements": "str", "default": []},
}


def _read(variables, name):
    try:
        return plain(variables[name])
    except AnsibleError as exc:
        return Unreadable(str(exc).splitlines()[0])


def inventory_view(task_vars):
    """Build an InventoryView from the ``groups`` and ``hostvars`` of a task."""
    groups = task_vars.get("groups", {})
    hostvars = task_vars.get("hostvars", {})
    hosts = list(groups.get("all", []))
    collected = {}
    for host in hosts:
        variables = hostvars[host]
        names = [name for name in variables if name.startswith(PREFIX) or name == "ansible_host"]
        collected[host] = dict((name, _read(variables, name)) for name in names)
    return InventoryView(dict((name, list(members)) for name, members in groups.items()), collected)


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
        report = validate(inventory_view(task_vars), args["extra_known_variables"])
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
