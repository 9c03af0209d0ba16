# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options shared by the kubeadm_* modules (module_utils/kubeadm.KUBEADM_ARGSPEC)."""

    DOCUMENTATION = r"""
options:
  kubeadm_path:
    description: The kubeadm binary, by name (looked up on the node's path) or by full path.
    type: path
    default: kubeadm
  kubectl_path:
    description: The kubectl binary, by name or full path; used to read the running cluster's configuration.
    type: path
    default: kubectl
requirements:
  - kubeadm on the node (role C(normaldance.platform.node_kube_binaries) installs it).
"""
