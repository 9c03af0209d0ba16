# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every inventory check and collect all problems at once."""

from ansible_collections.normaldance.platform.plugins.module_utils import networks
from ansible_collections.normaldance.platform.plugins.module_utils.validation import argument_specs, controller_files, groups
from ansible_collections.normaldance.platform.plugins.module_utils.validation import inventory_files
from ansible_collections.normaldance.platform.plugins.module_utils.validation import kubernetes_limits, network_layout, nodes
from ansible_collections.normaldance.platform.plugins.module_utils.validation import profile_rules, required_secrets, role_rules
from ansible_collections.normaldance.platform.plugins.module_utils.validation import variables, versions


def _node_port_range(view, values):
    """The NodePort range the control planes' kube-apiserver gets (its extra args, else the default)."""
    for host in view.members("control_plane"):
        extra_args = values.get(host, {}).get("cluster_control_plane_apiserver_extra_args")
        if extra_args:
            return kubernetes_limits.node_port_range(extra_args)
    return kubernetes_limits.DEFAULT_NODE_PORT_RANGE


def validate(view, extra_known=(), role_specs=None, inventory_dirs=(), vars_extensions=inventory_files.DEFAULT_EXTENSIONS,
             read_file=None):
    """Check an InventoryView; return a dict with ``problems`` (messages) and a summary.

    ``role_specs`` (argument_specs.RoleSpecs) enables the checks of role
    variables; ``inventory_dirs`` (a list of (directory, name in messages))
    the checks of the files next to the inventory; ``read_file`` (a path to
    bytes, else controller_files.read_plain) reads the files on the
    controller that role variables name, as the roles read them. The
    messages never contain the value of a secret or the content of a file.
    """
    if not networks.HAS_NETADDR:
        return {"problems": ["the Python library netaddr is required on the controller to validate the inventory"]}
    if role_specs is None:
        role_specs = argument_specs.RoleSpecs({})
    problems = inventory_files.check_inventory_files(inventory_dirs, view.groups, view.hosts, vars_extensions)
    problems.extend(variables.unknown_variables(view, extra_known, role_specs.role_of))
    problems.extend(argument_specs.unknown_role_variables(view, role_specs, extra_known))
    settings, found = variables.resolve_settings(view)
    problems.extend(found)
    found, role_values = argument_specs.check_role_variables(view, role_specs)
    problems.extend(found)
    files = controller_files.ControllerFiles(read_file or controller_files.read_plain)
    problems.extend(role_rules.check_role_rules(view, role_values, role_specs, files))
    environment = settings["platform_environment"].parsed
    problems.extend(groups.check_groups(view, environment))
    problems.extend(nodes.check_node_names(view))
    addresses, found = nodes.node_addresses(view)
    problems.extend(found)
    problems.extend(network_layout.check_networks(settings, addresses))
    node_count = len(set(view.members("control_plane")) | set(view.members("workers"))) or len(view.hosts)
    problems.extend(kubernetes_limits.check_limits(settings, node_count, _node_port_range(view, role_values)))
    problems.extend(versions.check_versions(settings))
    merged, found = profile_rules.check_profile(settings)
    problems.extend(found)
    problems.extend(required_secrets.check_secrets(settings, environment))
    return {
        "problems": problems,
        "environment": environment,
        "control_planes": view.members("control_plane"),
        "workers": view.members("workers"),
        "kubernetes_version": settings["platform_kubernetes_version"].value,
        "profile": merged,
    }
