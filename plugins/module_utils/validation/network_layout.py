# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node, pod and service networks, node addresses and the API endpoint."""

from ansible_collections.normaldance.platform.plugins.module_utils import networks
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import show

_OVERLAP_RULE = "the pod, service and node networks must not overlap"
_VIP_RULE = "the API endpoint (VIP) must be an unused address in the node network"


def check_networks(settings, addresses):
    """Report overlapping networks, stray node addresses and a bad API endpoint."""
    problems = []
    node = settings["platform_node_network"]
    pod = settings["platform_pod_network"]
    service = settings["platform_service_network"]
    overlapping = set()
    for first, second in ((pod, node), (service, node), (service, pod)):
        if first.parsed is None or second.parsed is None:
            continue
        if networks.overlaps(first.parsed, second.parsed):
            overlapping.add(first.name)
            problems.append(
                "%s: %s overlaps %s %s; %s"
                % (first.head(), show(first.value), second.name, show(second.value), _OVERLAP_RULE)
            )
    for host, (name, value, address) in addresses.items():
        if node.parsed is not None and address not in node.parsed:
            problems.append(
                "%s (host %s): %s is outside platform_node_network %s; every node address must lie in the node network"
                % (name, host, show(value), show(node.value))
            )
        for other in (pod, service):
            if other.parsed is not None and other.name not in overlapping and address in other.parsed:
                problems.append(
                    "%s (host %s): %s lies in %s %s; node addresses must be outside the pod and service networks"
                    % (name, host, show(value), other.name, show(other.value))
                )
    endpoint = settings["platform_api_endpoint_address"]
    if endpoint.parsed is None or node.parsed is None:
        return problems
    if endpoint.parsed not in node.parsed:
        problems.append(
            "%s: %s is outside platform_node_network %s; %s"
            % (endpoint.head(), show(endpoint.value), show(node.value), _VIP_RULE)
        )
    elif networks.is_reserved_in(endpoint.parsed, node.parsed):
        problems.append(
            "%s: %s is the network or broadcast address of platform_node_network %s; %s"
            % (endpoint.head(), show(endpoint.value), show(node.value), _VIP_RULE)
        )
    for host, (name, value, address) in addresses.items():
        if address == endpoint.parsed:
            problems.append(
                "%s: %s is the address of host %s (%s); %s" % (endpoint.head(), show(endpoint.value), host, name, _VIP_RULE)
            )
    return problems
