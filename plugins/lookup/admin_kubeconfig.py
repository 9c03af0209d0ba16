# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: admin_kubeconfig
short_description: Path of the cluster's admin kubeconfig on the controller
version_added: 0.2.0
description:
  - Returns the path, on the controller, of the cluster's admin kubeconfig, which the role
    C(normaldance.platform.cluster_control_plane) writes and every step that talks to the API from the controller
    reads.
  - That is O(platform_kubeconfig) when the inventory sets it, else C(<inventory directory>/artifacts/admin.conf).
  - The inventory directory is the current host's C(inventory_dir). A play on C(localhost), which is not in the
    inventory, takes the directory of the first inventory host; without an inventory directory at all, C(playbook_dir).
  - This plugin is the one place where that default is written. The roles' own variables
    (C(cluster_control_plane_kubeconfig_dest), C(cluster_network_kubeconfig), C(cluster_nodes_kubeconfig),
    C(cluster_upgrade_kubeconfig)) default to it, and the playbooks use it.
author:
  - NORMALDANCE platform maintainers (@normaldance)
options:
  platform_kubeconfig:
    description:
      - The inventory variable C(platform_kubeconfig). Set it in C(group_vars/all) to keep the kubeconfig elsewhere
        on the controller; it may be a template, and C(~) is expanded.
    type: str
    vars:
      - name: platform_kubeconfig
notes:
  - Takes no terms.
"""

EXAMPLES = r"""
- name: List the nodes with the admin kubeconfig of the cluster
  kubernetes.core.k8s_info:
    kubeconfig: "{{ lookup('normaldance.platform.admin_kubeconfig') }}"
    kind: Node
  delegate_to: localhost
"""

RETURN = r"""
_raw:
  description: The path of the admin kubeconfig on the controller, as a list of one string.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

# Relative to the inventory directory.
DEFAULT_RELATIVE = os.path.join("artifacts", "admin.conf")


def default_kubeconfig(variables):
    """``<inventory directory>/artifacts/admin.conf`` for the host whose variables these are."""
    directory = variables.get("inventory_dir")
    if not directory:
        hosts = (variables.get("groups") or {}).get("all") or []
        if hosts:
            directory = variables["hostvars"][hosts[0]].get("inventory_dir")
    if not directory:
        directory = variables.get("playbook_dir")
    if not directory:
        raise AnsibleLookupError("admin_kubeconfig: neither inventory_dir nor playbook_dir is known; set platform_kubeconfig")
    return os.path.join(directory, DEFAULT_RELATIVE)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("admin_kubeconfig takes no terms (got %r)" % (terms,))
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        configured = self.get_option("platform_kubeconfig")
        if configured:
            # Inventory values reach lookups untemplated.
            return [os.path.expanduser(str(self._templar.template(configured)))]
        return [default_kubeconfig(variables)]
