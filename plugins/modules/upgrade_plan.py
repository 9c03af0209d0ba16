#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the action plugin normaldance.platform.upgrade_plan."""

DOCUMENTATION = r"""
---
module: upgrade_plan
short_description: Check that a running cluster may be upgraded to a version, and list what is left
version_added: 0.1.0
description:
  - Compares the versions a running cluster reports (the kubelet of every Node, the control-plane static pod images
    of every control plane, kubeadm's stored ClusterConfiguration) with the target version.
  - 'Refuses, naming the variable, each component with its version and the rule: a downgrade of any component,
    and any component that would move more than one minor version (or change the major version).'
  - Components already at the target are fine, so a cluster left half-way by an interrupted upgrade passes
    and the remaining nodes are listed.
  - Contacts no host; the versions are read by earlier tasks (for example with M(kubernetes.core.k8s_info)).
author:
  - NORMALDANCE platform maintainers (@normaldance)
options:
  target:
    description: The version to upgrade to, X.Y.Z without V(v).
    type: str
    required: true
  variable:
    description: Name of the variable the target comes from, used in messages.
    type: str
    default: platform_kubernetes_version
  control_planes:
    description:
      - Control-plane node name to the version its control-plane components run (such as V(v1.35.8)); the
        lowest image tag of kube-apiserver, kube-controller-manager and kube-scheduler on that node.
    type: dict
    default: {}
  kubelets:
    description: Node name to the kubelet version of its Node object (C(status.nodeInfo.kubeletVersion)).
    type: dict
    default: {}
  cluster_configuration:
    description: C(kubernetesVersion) of the ClusterConfiguration in the C(kube-system/kubeadm-config) ConfigMap.
    type: str
  expected_from:
    description:
      - The version the inventory says the cluster runs (C(platform_kubernetes_upgrade_from)); when set, it must
        be one of the versions the cluster runs, or the target.
    type: str
  nodes:
    description: The nodes to upgrade, in order (default every Node); each must be a Node of the cluster.
    type: list
    elements: str
  node_resources:
    description:
      - Node objects as M(kubernetes.core.k8s_info) returns them; their kubelet versions are added to O(kubelets).
    type: list
    elements: dict
  pod_resources:
    description:
      - Pod objects of C(kube-system) (the control-plane static pods); the lowest image tag of the
        kube-apiserver, kube-controller-manager and kube-scheduler pods of a node (label C(component)) is added to
        O(control_planes). Used together with O(node_resources).
    type: list
    elements: dict
    default: []
  kube_proxy_image:
    description:
      - Image of the kube-proxy DaemonSet. Accepted for information only; C(apply_done) does not depend on it, since
        kubeadm upgrades the addons only once every control plane runs the target.
    type: str
attributes:
  action:
    support: full
    description: Runs on the controller only.
  async:
    support: none
    description: The check is quick.
  check_mode:
    support: full
    description: The check reads its options only; it runs the same way in check mode.
  diff_mode:
    support: none
    description: Nothing is changed.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Refuse a forbidden upgrade before any change
  normaldance.platform.upgrade_plan:
    target: "{{ platform_kubernetes_version }}"
    control_planes: {cp1: v1.35.8}
    kubelets: {cp1: v1.35.8, w1: v1.35.8}
    cluster_configuration: v1.35.8
  register: upgrade_plan
"""

RETURN = r"""
problems:
  description: One sentence per reason to refuse; empty when the upgrade may go on.
  returned: always
  type: list
  elements: str
  sample:
    - "platform_kubernetes_version is 1.37.0 but the control plane on cp1 runs 1.35.8: an upgrade may move at most
      one minor version; upgrades go forward one minor version at a time. Upgrade to 1.36.x first, then to 1.37.0."
current:
  description: The lowest version any component runs.
  returned: when the versions could be read
  type: str
  sample: 1.35.8
target:
  description: The target version.
  returned: always
  type: str
  sample: 1.36.5
apply_done:
  description:
    - Whether kubeadm upgrade apply has run, that is kubeadm's stored ClusterConfiguration is at the target.
  returned: when the versions could be read
  type: bool
pending:
  description: Nodes not yet at the target, in upgrade order.
  returned: when the versions could be read
  type: list
  elements: str
  sample: [cp2, w1, w2]
done:
  description: Nodes already at the target.
  returned: when the versions could be read
  type: list
  elements: str
nodes:
  description: Per node, C(kubelet), C(control_plane) (or null) and C(upgrade) (whether work is left).
  returned: when the versions could be read
  type: dict
"""
