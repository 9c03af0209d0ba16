# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node names and node addresses."""

import re

from ansible_collections.normaldance.platform.plugins.module_utils import networks
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import Unreadable, show

# Kubernetes node names are RFC 1123 subdomains: lowercase labels of
# letters, digits and '-', joined by '.', at most 253 characters.
_NODE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*")


def check_node_names(view):
    """Report invalid node names and names that collide once shortened."""
    problems = []
    seen = {}
    for host in view.hosts:
        if len(host) > 253 or not _NODE_NAME.fullmatch(host):
            problems.append(
                "host %s: not a valid node name; inventory host names become Kubernetes node names, which are "
                "lowercase RFC 1123 names (a-z, 0-9, '-' and '.')" % host
            )
        short = host.lower().split(".")[0]
        if short in seen:
            problems.append(
                "host %s: node name '%s' is also used by host %s; node names (the first label of the host name) must be unique"
                % (host, short, seen[short])
            )
        else:
            seen[short] = host
    return problems


def node_addresses(view):
    """Return ({host: (variable, value, parsed address or None)}, problems)."""
    problems = []
    addresses = {}
    for host in view.hosts:
        variables = view.hostvars.get(host, {})
        if "platform_node_ip" in variables:
            name = "platform_node_ip"
        elif "ansible_host" in variables:
            name = "ansible_host"
        else:
            problems.append(
                "platform_node_ip (host %s): not set, and neither is ansible_host; every node needs an IP address" % host
            )
            continue
        value = variables[name]
        if isinstance(value, Unreadable):
            problems.append("%s (host %s): its template cannot be rendered (%s)" % (name, host, value.reason))
            continue
        try:
            addresses[host] = (name, value, networks.parse_address(value))
        except networks.AddressError:
            if name == "ansible_host":
                rule = "set platform_node_ip to the node's address when ansible_host is a name"
            else:
                rule = "it must be a single address such as '10.210.0.11'"
            problems.append("%s (host %s): %s is not an IP address; %s" % (name, host, show(value), rule))
    owners = {}
    for host, (name, value, address) in addresses.items():
        if address in owners:
            problems.append(
                "%s (host %s): %s is also the address of host %s; node addresses must be unique"
                % (name, host, show(value), owners[address])
            )
        else:
            owners[address] = host
    return addresses, problems
