#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the action plugin normaldance.platform.validate_inventory."""

DOCUMENTATION = r"""
---
module: validate_inventory
short_description: Check the whole inventory before anything changes
version_added: 0.1.0
description:
  - Reads the groups and the variables of every host of the inventory on the controller
    and checks them against the rules of the collection. No host is contacted.
  - 'Groups: the number of control planes is odd and at least one (three in production);
    every control plane is in V(etcd) (stacked etcd); workers are neither control planes nor in V(etcd);
    V(etcd) holds only control planes; every host is a control plane or a worker and is in V(k8s_cluster).'
  - 'Hosts: host names are valid Kubernetes node names and unique; node addresses
    (C(platform_node_ip), else C(ansible_host)) are IP addresses, unique, and inside C(platform_node_network).'
  - 'Networks: C(platform_node_network), C(platform_pod_network) and C(platform_service_network) are CIDR networks
    of one address family that do not overlap each other or any node address; C(platform_api_endpoint_address) lies
    in the node network and is no node address.'
  - 'Kubernetes limits that kubeadm and the components enforce only on the hosts: the service network has at most
    20 host bits (V(/12) or longer for IPv4, V(/108) for IPv6) and at least 10 addresses; the pod network is IPv4
    (flannel), at least one node CIDR (V(/24), kubeadm''s default mask size) per node, and at most 16 bits shorter
    than that mask; C(platform_api_endpoint_port) is not a port of etcd, the kubelet, kube-proxy,
    kube-controller-manager, kube-scheduler or kube-network-policies, nor in the NodePort range.'
  - 'Kubernetes: C(platform_kubernetes_version) is X.Y.Z within the supported range; with
    C(platform_kubernetes_upgrade_from), no downgrade and at most one minor version per upgrade.'
  - 'Profile: after C(platform_profile_overrides), every replica count meets the minimum of the environment,
    resource quantities follow the Kubernetes quantity syntax with requests not above limits, and
    retention periods and intervals are durations such as V(30d).'
  - 'Secrets: every required secret is set; in staging and production none is the shipped placeholder V(CHANGE_ME).'
  - 'Names: every C(platform_*) variable is a known one; a misspelt name is reported with the closest known name.'
  - 'Role variables: every variable with a role''s prefix that the inventory sets, on any host, is checked against
    the options of all entry points of that role''s C(meta/argument_specs.yml), read from the collection when the
    check runs (so roles added later are covered): type, choices, list elements, nested options and required keys.
    What Ansible''s own role argument validation refuses is always refused. A name that is no option of its role is
    reported with the closest option.'
  - 'Role rules: the checks of the roles'' preflight tasks that need no host (node label keys and values and taints,
    the etcd backup target, durations, versions, endpoints, registries, sysctl values and the like) run here too.'
  - 'Ingress (role platform_ingress): C(platform_ingress_address) is an unused IPv4 address of the node network, as
    the API endpoint is, and not the API endpoint; its VRRP router id is not the API endpoint''s; the ingress hosts
    are hosts of V(k8s_cluster); Traefik''s three host ports differ and are no port the nodes use; the domain is a
    DNS name; the site''s certificate and key files are set together, exist on the controller, are PEM, belong
    together, and the certificate is issued by C(platform_ingress_tls_ca) when that is set. Files encrypted with
    ansible-vault are decrypted as the role''s file lookup does; their content is never shown.'
  - 'Files: entries of C(host_vars/) and C(group_vars/) next to the inventory that Ansible ignores (no such host or
    group, or shadowed by another entry of the same name) are reported with their path.'
  - All problems are reported at once, one message per problem, naming the variable, the host or group,
    the value and the rule. The values of secrets are never shown.
  - The group named in a message is the widest group whose hosts all share that value (for example V(group all)
    for a value set in C(group_vars/all)), or the host itself.
author:
  - NORMALDANCE platform maintainers (@normaldance)
options:
  fail_on_problems:
    description:
      - Fail the task when there is at least one problem.
      - With V(false) the task succeeds and returns the problems for later tasks.
    type: bool
    default: true
  extra_known_variables:
    description:
      - Further C(platform_*) or role-prefixed variable names to accept, for inventories that carry
        variables of their own under those prefixes.
    type: list
    elements: str
    default: []
attributes:
  action:
    support: full
    description: Runs on the controller only.
  async:
    support: none
    description: The check is quick and runs in the foreground.
  check_mode:
    support: full
    description: The check reads data only; it runs the same way in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller; the hosts of the inventory are not contacted.
requirements:
  - netaddr (Python library, on the controller)
  - cryptography (Python library, on the controller; a dependency of ansible-core) for the certificate files
notes:
  - 'Run it in a play on V(localhost) with C(connection: local) and C(gather_facts: false),
    as C(playbooks/validate.yml) of this collection does.'
seealso:
  - name: Inventory variables
    description: Every C(platform_*) variable with its type, default and rule (C(docs/variables.md) in the collection).
    link: https://example.invalid/normaldance/platform/docs/variables.md
"""

EXAMPLES = r"""
- name: Validate the inventory
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Check groups, hosts, networks, versions, profile and secrets
      normaldance.platform.validate_inventory:

    - name: Collect the problems without failing
      normaldance.platform.validate_inventory:
        fail_on_problems: false
      register: inventory_check

    - name: Show how many problems there are
      ansible.builtin.debug:
        msg: "{{ inventory_check.problems | length }} problems"
"""

RETURN = r"""
problems:
  description: One message per problem, in a stable order. Empty when the inventory is valid.
  returned: always
  type: list
  elements: str
  sample:
    - "platform_pod_network (group all): '10.210.0.0/16' overlaps platform_node_network '10.210.0.0/24';
      the pod, service and node networks must not overlap"
summary:
  description: What was validated, when there is no problem.
  returned: success
  type: dict
  contains:
    environment:
      description: The value of C(platform_environment).
      type: str
      returned: success
      sample: production
    control_planes:
      description: The hosts of the C(control_plane) group.
      type: list
      elements: str
      returned: success
      sample: [cp1, cp2, cp3]
    workers:
      description: The hosts of the C(workers) group.
      type: list
      elements: str
      returned: success
      sample: [w1, w2]
    kubernetes_version:
      description: The value of C(platform_kubernetes_version).
      type: str
      returned: success
      sample: 1.36.0
    profile:
      description: The environment profile with the overrides merged in, as the filter
        P(normaldance.platform.environment_profile#filter) returns it.
      type: dict
      returned: success
"""
