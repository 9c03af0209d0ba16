# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of the roles' preflight tasks that need no host, checked on the controller.

Each role's ``tasks/preflight.yml`` (and ``cluster_nodes``' label task)
asserts these rules again on the hosts, so that a role used on its own is
protected too; here they are checked for every host at once, before any
host is contacted. Only values the inventory sets are checked (the
defaults of the roles are valid), and only values that passed their
argument spec (see ``argument_specs``). A rule that relates two variables
compares with the other's value as the role gets it (the inventory's, else
its default).

The rules of ``platform_ingress`` go further than its preflight (which
checks only the ingress hosts): its address against the node network, the
API endpoint and the node addresses, as ``network_layout`` checks the API
endpoint; its VRRP router id against the API endpoint's; Traefik's host
ports against each other and the ports of the nodes
(``kubernetes_limits.RESERVED_PORTS`` and the API port); and the site's
certificate, key and CA files on the controller (``controller_files``).
"""

import difflib
import functools
import re

from ansible_collections.normaldance.platform.plugins.module_utils import duration, networks
from ansible_collections.normaldance.platform.plugins.module_utils.platform_variables import default_of
from ansible_collections.normaldance.platform.plugins.module_utils.validation.controller_files import (
    ControllerFiles, FileProblem, chain_problem, same_key)
from ansible_collections.normaldance.platform.plugins.module_utils.validation.kubernetes_limits import RESERVED_PORTS
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import Findings, Unreadable, show

_DURATION_RULE = "use whole numbers with the units s, m, h, d or w, such as 12h or 30d"
_TIME_SPAN = re.compile(r"[0-9]+([a-z]+)?( ?[0-9]+[a-z]+)*")
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
_KUBERNETES_RELEASE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?")
_CONTAINERD_RELEASE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?")
_HOST_PORT = re.compile(r"[^:]+:[0-9]+")
_REGISTRY = re.compile(r"[A-Za-z0-9.-]+(:[0-9]+)?")
_HTTP_URL = re.compile(r"https?://[^/]+")
_S3_ENDPOINT = re.compile(r"https?://[^/\s]+")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_KEY_PREFIX = re.compile(r"([A-Za-z0-9._-][A-Za-z0-9._/-]*/)?")
_REGION = re.compile(r"[a-z0-9-]+")
_SYSCTL_VALUE = re.compile(r"-?[0-9A-Za-z_ .:/-]+")
# Kubernetes qualified names (label and taint keys) and label values.
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KEY_RULE = ("a key is a name of at most 63 letters, digits, '-', '_' and '.' that starts and ends with a letter "
             "or digit, optionally after a DNS subdomain prefix and '/', such as normaldance.io/pool")
_VALUE_RULE = ("a value is empty or at most 63 letters, digits, '-', '_' and '.' that starts and ends with a letter "
               "or digit")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_TAINT_KEYS = ("key", "value", "effect")


def is_qualified_name(text):
    """Tell whether ``text`` is a Kubernetes label or taint key (``[prefix/]name``)."""
    if not isinstance(text, str):
        return False
    prefix, _sep, name = text.rpartition("/")
    if _sep and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return len(name) <= 63 and bool(_NAME.fullmatch(name))


def is_label_value(text):
    """Tell whether ``text`` is a Kubernetes label value (empty, or a name of at most 63 characters)."""
    return isinstance(text, str) and (text == "" or (len(text) <= 63 and bool(_NAME.fullmatch(text))))


class HostValues:
    """The role variables of one host as a rule sees them: the inventory's, else the spec default.

    ``files`` (a ControllerFiles) reads the files on the controller that
    variables name.
    """

    def __init__(self, host, values, hostvars, specs, view, files=None):
        self.host = host
        self.values = values
        self.hostvars = hostvars
        self.specs = specs
        self.view = view
        self.files = files if files is not None else ControllerFiles()

    def is_set(self, name):
        return name in self.values

    def get(self, name):
        if name in self.values:
            return self.values[name]
        return self.specs.default_of(name)


def _duration(value, _host):
    """A duration as the role's preflight reads it (test normaldance.platform.duration: module_utils/duration.py)."""
    try:
        duration.parse_duration(value)
        return []
    except duration.DurationError:
        return ["%s is not a duration longer than zero; %s" % (show(value), _DURATION_RULE)]


def _optional_duration(value, host):
    return [] if value == "" else _duration(value, host)


def _absolute_path(value, _host):
    if value.startswith("/") and len(value) > 1:
        return []
    return ["%s is not an absolute path" % show(value)]


def _not_negative(value, _host):
    return [] if value >= 0 else ["%s is negative; it is a number of snapshots, 0 for no limit" % show(value)]


def _positive_seconds(value, _host):
    return [] if value > 0 else ["%s is not a positive number of seconds" % show(value)]


def _x_y_z(value, _host):
    if _VERSION.fullmatch(value):
        return []
    return ["%s is not a version of the form X.Y.Z, such as '1.36.0' (without 'v')" % show(value)]


def _etcd_version(value, _host):
    if value == "" or _VERSION.fullmatch(value):
        return []
    return ["%s is not an etcd version of the form X.Y.Z, such as '3.6.8' (without 'v'); leave it empty to get "
            "the one kubeadm runs" % show(value)]


def _kubernetes_release(value, _host):
    if _KUBERNETES_RELEASE.fullmatch(value):
        return []
    return ["%s is not a Kubernetes release such as '1.36.0' (without 'v')" % show(value)]


def _host_port(value, _host):
    if _HOST_PORT.fullmatch(value):
        return []
    return ["%s is not of the form host:port, such as '192.0.2.10:6443'" % show(value)]


def _http_url(value, _host):
    if _HTTP_URL.match(value):
        return []
    return ["%s is not an http:// or https:// URL" % show(value)]


def _time_span(value, _host):
    if _TIME_SPAN.fullmatch(value):
        return []
    return ["%s is not a systemd time span such as 2h or 30min" % show(value)]


def _calendar(value, _host):
    if value.strip():
        return []
    return ["%s is empty; give a systemd calendar expression such as '*-*-* 03:00:00'" % show(value)]


def _ip_address(value, _host):
    try:
        networks.parse_address(value)
        return []
    except networks.AddressError:
        return ["%s is not an IP address" % show(value)]


def _router_id(value, _host):
    if 1 <= value <= 255:
        return []
    return ["%s is not a VRRP router id; it must be a whole number from 1 to 255" % show(value)]


def _ipv4_network(value, _host):
    try:
        if networks.parse_network(value).version == 4:
            return []
    except networks.AddressError:
        pass
    return ["%s is not an IPv4 network such as '10.244.0.0/16'; the pod network of flannel (role cluster_network) "
            "is IPv4 only" % show(value)]


def _snapshot(value, _host):
    if value == "" or value.startswith("/"):
        return []
    return ["%s is not an absolute path; the snapshot is named by its absolute path" % show(value)]


def _snapshot_host(value, host):
    if value == "" or value in host.view.hosts:
        return []
    return ["%s is not a host of the inventory; the snapshot host must be an inventory host (empty means the "
            "controller)" % show(value)]


def _labels(value, _host):
    problems = []
    for key, item in value.items():
        if not is_qualified_name(key):
            problems.append("key %s is not a valid label key; %s" % (show(key), _KEY_RULE))
        if not isinstance(item, str):
            problems.append("value %s of key %s is not a string; the Kubernetes API takes label values as strings "
                            "only, so write it in quotes" % (show(item), show(key)))
        elif not is_label_value(item):
            problems.append("value %s of key %s is not a valid label value; %s" % (show(item), show(key), _VALUE_RULE))
    return problems


def _taints(value, _host):
    problems = []
    for index, taint in enumerate(value):
        where = "[%d]" % index
        for key in taint:
            if key not in _TAINT_KEYS:
                close = difflib.get_close_matches(str(key), _TAINT_KEYS, n=1, cutoff=0.6)
                hint = "; did you mean '%s'?" % close[0] if close else ";"
                problems.append("%s key %s is unknown%s a taint has the keys key, value and effect"
                                % (where, show(key), hint))
        for key in ("key", "effect"):
            if key not in taint:
                problems.append("%s has no key '%s', which is required; a taint needs a key and an effect (%s)"
                                % (where, key, ", ".join(TAINT_EFFECTS)))
        if "key" in taint and not is_qualified_name(taint["key"]):
            problems.append("%s.key %s is not a valid taint key; %s" % (where, show(taint["key"]), _KEY_RULE))
        if "value" in taint and taint["value"] is not None and not is_label_value(taint["value"]):
            problems.append("%s.value %s is not a valid taint value; %s" % (where, show(taint["value"]), _VALUE_RULE))
        if "effect" in taint and taint["effect"] not in TAINT_EFFECTS:
            problems.append("%s.effect %s is not one of %s" % (where, show(taint["effect"]), ", ".join(TAINT_EFFECTS)))
    return problems


def _backup_target(target, host):
    """The target of cluster_etcd_backup, with the spec's defaults filled in."""
    problems = []
    kind = target.get("type")
    if kind == "ssh":
        address = target.get("host") or ""
        if not address:
            problems.append("type 'ssh' has no host; an ssh target needs the inventory name or address of the backup host")
        path = target.get("path")
        if not isinstance(path, str) or not (path.startswith("/") and len(path) > 1):
            problems.append("path %s is not an absolute path; the copies go to <path>/<control plane>/ on the backup "
                            "host" % show(path))
        if address and not target.get("host_key"):
            if not target.get("manage"):
                problems.append("manage %s and host_key is empty; an unmanaged ssh target needs host_key, the backup "
                                "host's public host key such as 'ssh-ed25519 AAAA...'" % show(target.get("manage")))
            elif address not in host.view.hosts:
                problems.append("host %s is not in the inventory and host_key is empty; the role prepares only "
                                "inventory hosts (manage: true), so add the host to the inventory or give host_key, "
                                "its public host key such as 'ssh-ed25519 AAAA...'" % show(address))
    elif kind == "s3":
        checks = (
            ("endpoint", _S3_ENDPOINT, "is not a scheme, host and optional port without a path, such as "
                                       "https://s3.example.com"),
            ("bucket", _BUCKET, "is not a bucket name of 3 to 63 lower-case letters, digits, dots and hyphens"),
            ("prefix", _KEY_PREFIX, "is not a key prefix: empty, or ending with '/' and not starting with '/', "
                                    "of letters, digits and . _ - /"),
            ("region", _REGION, "is not a region of lower-case letters, digits and hyphens"),
        )
        for key, pattern, rule in checks:
            item = target.get(key)
            if not isinstance(item, str) or not pattern.fullmatch(item):
                problems.append("%s %s %s" % (key, show(item), rule))
        empty = [key for key in ("access_key", "secret_key") if not target.get(key)]
        if empty:
            problems.append("type 's3' needs access_key and secret_key, but %s %s empty; set both (vault-encrypted)"
                            % (" and ".join(empty), "is" if len(empty) == 1 else "are"))
    return problems


def _backup_encrypt(value, host):
    if not value:
        return []
    if host.is_set("cluster_etcd_backup_encryption_passphrase"):
        passphrase = host.get("cluster_etcd_backup_encryption_passphrase")
    else:
        passphrase = host.hostvars.get("platform_backup_encryption_passphrase")
    if passphrase is None or isinstance(passphrase, Unreadable) or not isinstance(passphrase, str):
        return []
    if len(passphrase) >= 12:
        return []
    return ["%s needs a passphrase of at least 12 characters in cluster_etcd_backup_encryption_passphrase (default "
            "platform_backup_encryption_passphrase); the one given is shorter" % show(value)]


def _containerd_source(value, host):
    if value == "mirror" and not host.is_set("node_containerd_version"):
        return ["%s needs node_containerd_version, a release number such as '2.4.2' (without 'v')" % show(value)]
    return []


def _containerd_version(value, host):
    if host.get("node_containerd_source") != "mirror" or _CONTAINERD_RELEASE.fullmatch(value):
        return []
    return ["%s is not a release number such as '2.4.2' (without 'v'); node_containerd_source is mirror, and the "
            "mirror path is containerd/v<version>/" % show(value)]


def _registries(value, _host):
    problems = []
    for index, entry in enumerate(value):
        where = "[%d]" % index
        name = entry.get("name")
        if isinstance(name, str) and not _REGISTRY.fullmatch(name):
            problems.append("%s.name %s is not a registry host[:port] as written in image names" % (where, show(name)))
        given = [key for key in ("username", "password") if entry.get(key) is not None]
        if len(given) == 1:
            missing = "password" if given[0] == "username" else "username"
            problems.append("%s has a %s but no %s; username and password go together" % (where, given[0], missing))
        server = entry.get("server")
        if isinstance(server, str) and not re.match(r"https?://", server):
            problems.append("%s.server %s does not start with http:// or https://" % (where, show(server)))
        for number, mirror in enumerate(entry.get("mirrors") or []):
            url = mirror.get("url")
            if isinstance(url, str) and not re.match(r"https?://", url):
                problems.append("%s.mirrors[%d].url %s does not start with http:// or https://" % (where, number, show(url)))
    return problems


def _insecure_registries(value, _host):
    return ["[%d] %s is not a registry host:port, without scheme or path" % (index, show(item))
            for index, item in enumerate(value) if not _REGISTRY.fullmatch(item)]


def _sysctls(value, _host):
    return ["%s %s cannot be written to sysctl.d; use a number or a plain word" % (key, show(item))
            for key, item in value.items() if not _SYSCTL_VALUE.fullmatch(str(item))]


def _hosts_group(value, host):
    if not host.get("node_prepare_hosts_manage") or host.view.members(value):
        return []
    return ["%s is not a group of the inventory with hosts; /etc/hosts would get no cluster entries" % show(value)]


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_POD_SECURITY_STANDARDS = ("privileged", "baseline", "restricted")


def _namespace_names(value, _host):
    bad = [item for item in value if not (isinstance(item, str) and len(item) <= 63 and _DNS_LABEL.fullmatch(item))]
    if not bad:
        return []
    return ["%s %s not a namespace name; a name is at most 63 lower-case letters, digits and '-', starting and "
            "ending with a letter or digit" % (", ".join(show(item) for item in bad), "is" if len(bad) == 1 else "are")]


def _pod_security_exceptions(value, _host):
    problems = []
    for namespace, standard in value.items():
        if not (isinstance(namespace, str) and _DNS_LABEL.fullmatch(namespace)):
            problems.append("%s is not a namespace name" % show(namespace))
        if standard not in _POD_SECURITY_STANDARDS:
            problems.append("%s: %s is not a Pod Security standard; use %s"
                            % (namespace, show(standard), ", ".join(_POD_SECURITY_STANDARDS)))
    return problems


def _storage_node_paths(value, host):
    problems = []
    for name, path in value.items():
        if not host.view.members(name) and name not in host.view.hosts:
            problems.append("%s is neither a host nor a group of the inventory" % show(name))
        if not (isinstance(path, str) and path.startswith("/") and len(path) > 1):
            problems.append("%s: %s is not an absolute path" % (name, show(path)))
    return problems


_GO_DURATION = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")


def _metrics_resolution(value, _host):
    """--metric-resolution of metrics-server: whole h, m and s, at least 10s (metrics-server refuses less)."""
    found = _GO_DURATION.fullmatch(value)
    if value and found:
        hours, minutes, seconds = (int(part or 0) for part in found.groups())
        if hours * 3600 + minutes * 60 + seconds >= 10:
            return []
        return ["%s is shorter than 10s, which metrics-server refuses" % show(value)]
    return ["%s is not a duration of whole hours, minutes and seconds such as 15s, 1m or 1m30s" % show(value)]


def _replicas(value, _host):
    return [] if value >= 1 else ["%s is not a number of pods; it must be 1 or more" % show(value)]


def _positive_milliseconds(value, _host):
    return [] if value >= 1 else ["%s is not a number of milliseconds; it must be 1 or more" % show(value)]


_AUTOSCALING_NAMESPACE_RULE = ("KEDA runs in a platform namespace, which gets the platform's labels, quota, container "
                               "defaults and default deny")


def _autoscaling_listed(host):
    """KEDA's namespace, the platform namespaces, and whether the first is one of them."""
    namespace = host.get("platform_autoscaling_namespace")
    listed = list(host.get("platform_namespaces_platform") or []) + list(host.get("platform_namespaces_extra") or [])
    return namespace, listed, namespace in listed


def _autoscaling_namespace(value, host):
    _namespace, listed, found = _autoscaling_listed(host)
    if found:
        return []
    return ["%s is not one of the platform namespaces (platform_namespaces_platform and platform_namespaces_extra: %s); "
            "%s" % (show(value), ", ".join(listed) or "none", _AUTOSCALING_NAMESPACE_RULE)]


def _namespaces_hold_autoscaling(value, host):
    namespace, _listed, found = _autoscaling_listed(host)
    # Reported for platform_autoscaling_namespace when the inventory sets it.
    if found or host.is_set("platform_autoscaling_namespace"):
        return []
    return ["%s does not hold platform_autoscaling_namespace %s (its default), nor does platform_namespaces_extra; %s"
            % (show(value), show(namespace), _AUTOSCALING_NAMESPACE_RULE)]


# The ingress (role platform_ingress): a second virtual IP next to the API
# endpoint's, Traefik's host ports on the ingress nodes, and the site's own
# certificate, read from files on the controller.
_INGRESS_VIP_RULE = "the ingress address (VIP) must be an unused address in the node network"
_VRRP_RULE = ("the API endpoint and the ingress address are virtual IPs on the node network, where VRRP instances with "
              "the same router id collide")
_INGRESS_PORTS = ("platform_ingress_http_port", "platform_ingress_https_port", "platform_ingress_ping_port")
_DNS_NAME_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_TLS_PAIR_RULE = ("platform_ingress_tls_certificate and platform_ingress_tls_key go together: set both for the site's "
                  "certificate, or neither for one the collection issues")


def is_dns_name(text):
    """Tell whether ``text`` is a DNS name: lower-case labels of at most 63 letters, digits and '-', joined by dots."""
    return (isinstance(text, str) and 0 < len(text) <= 253
            and all(_DNS_NAME_LABEL.fullmatch(label) for label in text.split(".")))


def _address_or_none(value):
    try:
        return networks.parse_address(value)
    except networks.AddressError:
        return None


def _network_or_none(value):
    try:
        return networks.parse_network(value)
    except networks.AddressError:
        return None


def _ingress_address(value, host):
    """Like the API endpoint (validation.network_layout): an unused IPv4 address of the node network."""
    if value == "":
        return []
    address = _address_or_none(value)
    if address is None or address.version != 4:
        return ["%s is not an IPv4 address such as '192.0.2.100'; %s" % (show(value), _INGRESS_VIP_RULE)]
    problems = []
    node_value = host.hostvars.get("platform_node_network")
    node = _network_or_none(node_value)
    if node is not None and address not in node:
        problems.append("%s is outside platform_node_network %s; %s" % (show(value), show(node_value), _INGRESS_VIP_RULE))
    elif node is not None and networks.is_reserved_in(address, node):
        problems.append("%s is the network or broadcast address of platform_node_network %s; %s"
                        % (show(value), show(node_value), _INGRESS_VIP_RULE))
    if _address_or_none(host.hostvars.get("platform_api_endpoint_address")) == address:
        problems.append("%s is also platform_api_endpoint_address, the API endpoint (VIP); %s"
                        % (show(value), _INGRESS_VIP_RULE))
    elif host.is_set("cluster_endpoint_address") and _address_or_none(host.get("cluster_endpoint_address")) == address:
        problems.append("%s is also cluster_endpoint_address, the API endpoint (VIP); %s" % (show(value), _INGRESS_VIP_RULE))
    for other in host.view.hosts:
        variables = host.view.hostvars.get(other, {})
        for name in ("platform_node_ip", "ansible_host"):
            if _address_or_none(variables.get(name)) == address:
                problems.append("%s is the address of host %s (%s); %s" % (show(value), other, name, _INGRESS_VIP_RULE))
                break
    return problems


def _both_addresses(host):
    return bool(host.get("platform_ingress_address")) and bool(host.hostvars.get("platform_api_endpoint_address"))


def _ingress_router_id(value, host):
    problems = _router_id(value, host)
    if problems or not _both_addresses(host) or value != host.get("cluster_endpoint_virtual_router_id"):
        return problems
    return ["%s is also cluster_endpoint_virtual_router_id, the router id of the API endpoint; %s" % (show(value), _VRRP_RULE)]


def _endpoint_router_id(value, host):
    """The API endpoint's router id against the ingress's default one (a set one is checked by _ingress_router_id)."""
    if host.is_set("platform_ingress_virtual_router_id") or not _both_addresses(host):
        return []
    if value != host.get("platform_ingress_virtual_router_id"):
        return []
    return ["%s is also platform_ingress_virtual_router_id (its default), the router id of the ingress address; %s"
            % (show(value), _VRRP_RULE)]


def _ingress_hosts(value, host):
    if not value:
        return ["%s is empty; Traefik needs at least one ingress node, a host of the group k8s_cluster" % show(value)]
    nodes = host.view.members("k8s_cluster")
    unknown = []
    for item in value:
        if item not in nodes and item not in unknown:
            unknown.append(item)
    if not unknown:
        return []
    return ["%s names %s, which %s; the ingress nodes must be Kubernetes nodes of the inventory"
            % (show(value), ", ".join(unknown),
               "is not a host of the group k8s_cluster" if len(unknown) == 1 else "are not hosts of the group k8s_cluster")]


def _ingress_port(name, value, host):
    """One of Traefik's host ports: a port, not one the nodes use already, not one of the other two.

    A collision of two ports is reported once, on the later of the two in
    _INGRESS_PORTS, unless the inventory leaves that one at its default.
    """
    if not 1 <= value <= 65535:
        return ["%s is not a port; it must be a whole number from 1 to 65535" % show(value)]
    problems = []
    reserved = dict(RESERVED_PORTS)
    api_port = host.hostvars.get("platform_api_endpoint_port", default_of("platform_api_endpoint_port"))
    if isinstance(api_port, int) and not isinstance(api_port, bool):
        reserved[api_port] = "the API server (platform_api_endpoint_port)"
    if value in reserved:
        problems.append(
            "%s is the port of %s on the Kubernetes nodes; Traefik listens on this host port on every ingress node, "
            "so it must be free there (not one of %s)"
            % (show(value), reserved[value], ", ".join(str(item) for item in sorted(reserved))))
    position = _INGRESS_PORTS.index(name)
    for index, other in enumerate(_INGRESS_PORTS):
        if other == name or host.get(other) != value:
            continue
        if index < position or not host.is_set(other):
            problems.append("%s is also %s; Traefik's HTTP, HTTPS and ping ports must be three different host ports"
                            % (show(value), other))
    return problems


def _ingress_domain(value, _host):
    if value.startswith("*."):
        return ["%s starts with '*.'; give the domain itself: the certificate the collection issues covers the domain "
                "and every name directly under it" % show(value)]
    if is_dns_name(value):
        return []
    return ["%s is not a DNS domain; it must be labels of at most 63 lower-case letters, digits and '-' (not at the "
            "start or end of a label) joined by dots, such as 'prod.example.com'" % show(value)]


def _tls_certificate(value, host):
    if value == "":
        return []
    problems = []
    if not host.get("platform_ingress_tls_key"):
        problems.append("%s is set but platform_ingress_tls_key is empty; %s" % (show(value), _TLS_PAIR_RULE))
    try:
        chain = host.files.certificates(value)
    except FileProblem as exc:
        return problems + ["%s %s" % (show(value), exc)]
    authority = host.get("platform_ingress_tls_ca")
    if authority:
        try:
            authorities = host.files.certificates(authority)
        except FileProblem:
            return problems  # reported for platform_ingress_tls_ca
        reason = chain_problem(chain, authorities)
        if reason:
            problems.append("%s is not issued by platform_ingress_tls_ca %s: %s" % (show(value), show(authority), reason))
    return problems


def _tls_key(value, host):
    if value == "":
        return []
    problems = []
    certificate = host.get("platform_ingress_tls_certificate")
    if not certificate:
        problems.append("%s is set but platform_ingress_tls_certificate is empty; %s" % (show(value), _TLS_PAIR_RULE))
    try:
        key = host.files.private_key(value)
    except FileProblem as exc:
        return problems + ["%s %s" % (show(value), exc)]
    if certificate:
        try:
            leaf = host.files.certificates(certificate)[0]
        except FileProblem:
            return problems  # reported for platform_ingress_tls_certificate
        if not same_key(leaf, key):
            problems.append("%s is not the private key of platform_ingress_tls_certificate %s: their public keys differ"
                            % (show(value), show(certificate)))
    return problems


def _tls_ca(value, host):
    if value == "":
        return []
    problems = []
    if not host.get("platform_ingress_tls_certificate"):
        problems.append("%s is set but platform_ingress_tls_certificate is empty; the CA is used only with the site's "
                        "certificate (platform_ingress_tls_certificate and platform_ingress_tls_key)" % show(value))
    try:
        host.files.certificates(value)
    except FileProblem as exc:
        problems.append("%s %s" % (show(value), exc))
    return problems


# The variable each rule is about, the Python type its argument spec gives
# it, and the rule. A rule runs where the inventory sets that variable to a
# value that passed its argument spec (and so has that type).
RULES = (
    ("cluster_certificates_renew_before", str, _duration),
    ("cluster_certificates_restart_timeout", int, _positive_seconds),
    ("cluster_certificates_timer_on_calendar", str, _calendar),
    ("cluster_certificates_timer_randomized_delay", str, _time_span),
    ("cluster_control_plane_endpoint", str, _host_port),
    ("cluster_control_plane_kubernetes_version", str, _x_y_z),
    ("cluster_endpoint_address", str, _ip_address),
    ("cluster_endpoint_virtual_router_id", int, _router_id),
    ("cluster_endpoint_virtual_router_id", int, _endpoint_router_id),
    ("cluster_etcd_backup_dir", str, _absolute_path),
    ("cluster_etcd_backup_encrypt", bool, _backup_encrypt),
    ("cluster_etcd_backup_etcd_version", str, _etcd_version),
    ("cluster_etcd_backup_interval", str, _duration),
    ("cluster_etcd_backup_keep", int, _not_negative),
    ("cluster_etcd_backup_retention", str, _duration),
    ("cluster_etcd_backup_target", dict, _backup_target),
    ("cluster_etcd_backup_target_retention", str, _optional_duration),
    ("cluster_etcd_restore_etcd_version", str, _etcd_version),
    ("cluster_etcd_restore_snapshot", str, _snapshot),
    ("cluster_etcd_restore_snapshot_host", str, _snapshot_host),
    ("cluster_network_pod_network", str, _ipv4_network),
    ("cluster_nodes_labels", dict, _labels),
    ("cluster_nodes_taints", list, _taints),
    ("cluster_upgrade_kubernetes_version", str, _x_y_z),
    ("cluster_workers_endpoint", str, _host_port),
    ("node_containerd_insecure_registries", list, _insecure_registries),
    ("node_containerd_registries", list, _registries),
    ("node_containerd_source", str, _containerd_source),
    ("node_containerd_version", str, _containerd_version),
    ("node_kube_binaries_files_mirror_url", str, _http_url),
    ("node_kube_binaries_version", str, _kubernetes_release),
    ("node_prepare_hosts_group", str, _hosts_group),
    ("node_prepare_sysctls", dict, _sysctls),
    ("node_prepare_sysctls_extra", dict, _sysctls),
    ("platform_autoscaling_http_timeout", int, _positive_milliseconds),
    ("platform_autoscaling_metrics_server_replicas", int, _replicas),
    ("platform_autoscaling_namespace", str, _autoscaling_namespace),
    ("platform_autoscaling_operator_replicas", int, _replicas),
    ("platform_metrics_replicas", int, _replicas),
    ("platform_metrics_resolution", str, _metrics_resolution),
    ("platform_ingress_address", str, _ingress_address),
    ("platform_ingress_domain", str, _ingress_domain),
    ("platform_ingress_hosts", list, _ingress_hosts),
    ("platform_ingress_http_port", int, functools.partial(_ingress_port, "platform_ingress_http_port")),
    ("platform_ingress_https_port", int, functools.partial(_ingress_port, "platform_ingress_https_port")),
    ("platform_ingress_ping_port", int, functools.partial(_ingress_port, "platform_ingress_ping_port")),
    ("platform_ingress_tls_ca", str, _tls_ca),
    ("platform_ingress_tls_certificate", str, _tls_certificate),
    ("platform_ingress_tls_key", str, _tls_key),
    ("platform_ingress_virtual_router_id", int, _ingress_router_id),
    ("platform_namespaces_extra", list, _namespace_names),
    ("platform_namespaces_platform", list, _namespace_names),
    ("platform_namespaces_platform", list, _namespaces_hold_autoscaling),
    ("platform_namespaces_pod_security_exceptions", dict, _pod_security_exceptions),
    ("platform_storage_default_path", str, _absolute_path),
    ("platform_storage_node_paths", dict, _storage_node_paths),
)


def check_role_rules(view, values, specs, files=None):
    """Apply RULES to the checked role variables of every host (``values`` from check_role_variables).

    ``files`` (a ControllerFiles) reads the files on the controller that
    variables name; by default they are read as they are, without
    decrypting ansible-vault files.
    """
    findings = Findings()
    files = files if files is not None else ControllerFiles()
    for name, kind, rule in RULES:
        for host in view.hosts:
            host_values = values.get(host, {})
            if name not in host_values or not isinstance(host_values[name], kind):
                continue
            context = HostValues(host, host_values, view.hostvars.get(host, {}), specs, view, files)
            for text in rule(host_values[name], context):
                findings.add(name, [host], text)
    return findings.messages(view)
