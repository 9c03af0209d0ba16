# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter kubeadm_etcd_version (documented in kubeadm_etcd_version.yml).

The table lives in module_utils/kubernetes_version.py, next to the supported
Kubernetes range; the roles that install etcdctl and etcdutl read it here.
"""

from ansible_collections.normaldance.platform.plugins.module_utils.kubernetes_version import kubeadm_etcd_version


def etcd_version_or_empty(version):
    """The etcd version kubeadm runs for ``version``'s minor, or '' when the collection does not know it."""
    return kubeadm_etcd_version(version) or ""


class FilterModule:
    """The etcd release of a Kubernetes version."""

    def filters(self):
        return {"kubeadm_etcd_version": etcd_version_or_empty}
