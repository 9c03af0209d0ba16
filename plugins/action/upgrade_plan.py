# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin normaldance.platform.upgrade_plan (documented in plugins/modules)."""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.normaldance.platform.plugins.module_utils import upgrade_plan

ARGUMENT_SPEC = {
    "target": {"type": "str", "required": True},
    "variable": {"type": "str", "default": "platform_kubernetes_version"},
    "control_planes": {"type": "dict", "default": {}},
    "kubelets": {"type": "dict", "default": {}},
    "cluster_configuration": {"type": "str"},
    "expected_from": {"type": "str"},
    "nodes": {"type": "list", "elements": "str"},
    "node_resources": {"type": "list", "elements": "dict"},
    "pod_resources": {"type": "list", "elements": "dict", "default": []},
    "kube_proxy_image": {"type": "str"},
}


class ActionModule(ActionBase):
    """Judge the versions a cluster runs against the target; no host is contacted."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, msg="; ".join(validation.error_messages))
            return result
        args = validation.validated_parameters
        control_planes = dict((str(k), str(v)) for k, v in args["control_planes"].items())
        kubelets = dict((str(k), str(v)) for k, v in args["kubelets"].items())
        if args["node_resources"] is not None:
            from_pods, from_nodes = upgrade_plan.versions_from_resources(args["node_resources"], args["pod_resources"])
            control_planes.update(from_pods)
            kubelets.update(from_nodes)
        kube_proxy = upgrade_plan.image_tag(args["kube_proxy_image"]) if args["kube_proxy_image"] else None
        found = upgrade_plan.plan(
            args["target"],
            control_planes,
            kubelets,
            variable=args["variable"],
            cluster_configuration=args["cluster_configuration"],
            expected_from=args["expected_from"],
            nodes=args["nodes"],
            kube_proxy=kube_proxy,
        )
        result.update(found)
        result["changed"] = False
        if found["problems"]:
            result["failed"] = True
            result["msg"] = "Refusing to upgrade, nothing was changed:\n%s" % "\n".join(
                "- %s" % problem for problem in found["problems"])
        elif found["pending"]:
            result["msg"] = "the cluster runs %s; %d node(s) to upgrade to %s: %s" % (
                found["current"], len(found["pending"]), found["target"], ", ".join(found["pending"]))
        else:
            result["msg"] = "every node already runs %s; nothing to upgrade" % found["target"]
        return result
