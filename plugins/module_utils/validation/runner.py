# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every inventory check and collect all problems at once."""

from ansible_collections.normaldance.platform.plugins.module_utils import networks
from ansible_collections.normaldance.platform.plugins.module_utils.validation import groups, network_layout, nodes
from ansible_collections.normaldance.platform.plugins.module_utils.validation import profile_rules, required_secrets, variables, versions


def validate(view, extra_known=()):
    """Check an InventoryView; return a dict with ``problems`` (messages) and a summary.

    The messages never contain the value of a secret.
    """
    if not networks.HAS_NETADDR:
        return {"problems": ["the Python library netaddr is required on the controller to validate the inventory"]}
    problems = variables.unknown_variables(view, extra_known)
    settings, found = variables.resolve_settings(view)
    problems.extend(found)
    environment = settings["platform_environment"].parsed
    problems.extend(groups.check_groups(view, environment))
    problems.extend(nodes.check_node_names(view))
    addresses, found = nodes.node_addresses(view)
    problems.extend(found)
    problems.extend(network_layout.check_networks(settings, addresses))
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
