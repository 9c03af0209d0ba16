# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Limits that kubeadm and the Kubernetes components enforce only when they start.

Without these checks they show up only when ``kubeadm init``
refuses its configuration or a component crashes on the hosts:

- the service network may have at most 20 host bits (kubeadm and
  kube-apiserver refuse a larger one: /12 is the largest IPv4 network,
  /108 the largest IPv6 one) and at least 10 addresses (the cluster DNS
  service takes the tenth);
- kube-controller-manager gives each node a slice of the pod network of
  the node CIDR mask size; the collection leaves it at kubeadm's default
  (/24 for IPv4, /64 for IPv6). kubeadm refuses a pod network smaller than
  one slice, or more than 16 bits larger than one; and a node without a
  slice gets no pod network at all, so there must be one per node;
- the node, pod and service networks are of one address family (the
  collection builds single-stack clusters), and the pod network of
  flannel (role cluster_network) is IPv4;
- the API server listens on platform_api_endpoint_port on every control
  plane, next to the ports the other components use there, and kube-proxy
  opens the NodePort range on every node.
"""

from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import show

MAXIMUM_SERVICE_HOST_BITS = 20
MINIMUM_SERVICE_ADDRESSES = 10
NODE_CIDR_MASK_SIZE = {4: 24, 6: 64}
MAXIMUM_NODE_MASK_DIFFERENCE = 16
DEFAULT_NODE_PORT_RANGE = (30000, 32767)

# TCP ports that something other than the API server listens on, on every
# control plane (the settings of roles cluster_control_plane and cluster_network).
RESERVED_PORTS = {
    2379: "etcd (client port)",
    2380: "etcd (peer port)",
    2381: "etcd (metrics)",
    9080: "kube-network-policies (metrics)",
    10248: "the kubelet (health check)",
    10249: "kube-proxy (metrics)",
    10250: "the kubelet (API)",
    10256: "kube-proxy (health check)",
    10257: "kube-controller-manager",
    10259: "kube-scheduler",
}

_FAMILY_RULE = ("the node, pod and service networks must be of the same address family (the collection builds "
                "single-stack clusters)")


def _family(network):
    return "IPv%d" % network.version


def node_port_range(extra_args):
    """Return (first, last) of ``service-node-port-range`` in kube-apiserver extra args, else the default range."""
    for argument in extra_args or []:
        if not isinstance(argument, dict) or argument.get("name") != "service-node-port-range":
            continue
        text = str(argument.get("value", ""))
        for separator in ("-", "+"):
            first, found, last = text.partition(separator)
            if found and first.strip().isdigit() and last.strip().isdigit():
                first, last = int(first), int(last)
                return (first, first + last) if separator == "+" else (first, last)
    return DEFAULT_NODE_PORT_RANGE


def check_limits(settings, node_count, port_range=DEFAULT_NODE_PORT_RANGE):
    """Report networks and the API port that kubeadm or Kubernetes would refuse later."""
    problems = []
    node = settings["platform_node_network"]
    pod = settings["platform_pod_network"]
    service = settings["platform_service_network"]
    mismatched = set()
    if node.parsed is not None:
        for other in (pod, service):
            if other.parsed is not None and other.parsed.version != node.parsed.version:
                mismatched.add(other.name)
                problems.append("%s: %s is an %s network but platform_node_network %s is %s; %s"
                                % (other.head(), show(other.value), _family(other.parsed), show(node.value),
                                   _family(node.parsed), _FAMILY_RULE))
    if service.parsed is not None:
        network = service.parsed
        width = 32 if network.version == 4 else 128
        if width - network.prefixlen > MAXIMUM_SERVICE_HOST_BITS:
            problems.append(
                "%s: %s is too large; kubeadm and kube-apiserver take a service network of at most %d host bits "
                "(a prefix of /%d or longer for %s)"
                % (service.head(), show(service.value), MAXIMUM_SERVICE_HOST_BITS,
                   width - MAXIMUM_SERVICE_HOST_BITS, _family(network)))
        elif network.size < MINIMUM_SERVICE_ADDRESSES:
            problems.append(
                "%s: %s has %d address%s; kubeadm needs at least %d in the service network (the cluster DNS service "
                "takes the tenth)" % (service.head(), show(service.value), network.size,
                                      "" if network.size == 1 else "es", MINIMUM_SERVICE_ADDRESSES))
    if pod.parsed is not None:
        network = pod.parsed
        mask = NODE_CIDR_MASK_SIZE[network.version]
        if network.version != 4 and pod.name not in mismatched:
            problems.append("%s: %s is an %s network; the pod network of flannel (role cluster_network) is IPv4 only"
                            % (pod.head(), show(pod.value), _family(network)))
        if network.prefixlen > mask:
            problems.append(
                "%s: %s is smaller than the /%d each node gets from it; kubeadm refuses a pod network with a longer "
                "prefix than the node CIDR mask size (/%d for %s)"
                % (pod.head(), show(pod.value), mask, mask, _family(network)))
        elif mask - network.prefixlen > MAXIMUM_NODE_MASK_DIFFERENCE:
            problems.append(
                "%s: %s is too large; kubeadm refuses a pod network more than %d bits shorter than the node CIDR "
                "mask size (/%d for %s), so its prefix must be /%d or longer"
                % (pod.head(), show(pod.value), MAXIMUM_NODE_MASK_DIFFERENCE, mask, _family(network),
                   mask - MAXIMUM_NODE_MASK_DIFFERENCE))
        elif 2 ** (mask - network.prefixlen) < node_count:
            slices = 2 ** (mask - network.prefixlen)
            problems.append(
                "%s: %s holds %d node pod network%s of /%d but the inventory has %d nodes; kube-controller-manager "
                "gives every node its own /%d, and a node without one gets no pod network"
                % (pod.head(), show(pod.value), slices, "" if slices == 1 else "s", mask, node_count, mask))
    port = settings["platform_api_endpoint_port"]
    if port.parsed is not None:
        used_by = RESERVED_PORTS.get(port.parsed)
        if used_by:
            problems.append(
                "%s: %s is the port of %s on every control plane; the API server listens on this port there, so it "
                "must be free (not one of %s)"
                % (port.head(), show(port.value), used_by, ", ".join(str(item) for item in sorted(RESERVED_PORTS))))
        elif port_range[0] <= port.parsed <= port_range[1]:
            problems.append(
                "%s: %s is in the NodePort range %d-%d; kube-proxy opens NodePorts on every node, the control planes "
                "included, where the API server listens on this port"
                % (port.head(), show(port.value), port_range[0], port_range[1]))
    return problems
