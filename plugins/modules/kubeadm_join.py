#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubeadm_join
short_description: Join a node to a Kubernetes cluster as a worker or a control plane with kubeadm
version_added: 0.1.0
description:
  - Runs C(kubeadm join) with a C(JoinConfiguration) on a node that is not yet a member of the cluster.
  - A node that is already a member (it has a kubelet kubeconfig, and for a control plane also the API
    server manifest) is left alone and the task reports no change.
  - A worker cannot be turned into a control plane in place; the module fails with a clear message.
  - The bootstrap token and the certificate key are written only to a temporary file with mode 0600 that
    is removed after use, and never appear in results or messages.
author:
  - NORMALDANCE platform maintainers (@normaldance)
attributes:
  check_mode:
    support: full
    details: In check mode nothing runs; the result says whether the node would join.
  platform:
    platforms: posix
  diff_mode:
    support: full
    details: Shows the join configuration (without secrets) when the node would join.
options:
  config:
    description:
      - The C(JoinConfiguration) document (a mapping with C(apiVersion) and C(kind)), without secrets.
        The module fills in the discovery token, the CA hash, the API endpoint and the certificate key.
    type: dict
    required: true
  api_server_endpoint:
    description: Address and port of the cluster API (the control-plane endpoint), for example V(10.210.0.10:6443).
    type: str
    required: true
  token:
    description: Bootstrap token (C(id.secret)), for example from M(normaldance.platform.kubeadm_token).
    type: str
    required: true
  discovery_token_ca_cert_hash:
    description: C(sha256:<hex>) of the cluster CA's public key.
    type: str
    required: true
  control_plane:
    description: Join as a further control plane (stacked etcd member) instead of a worker.
    type: bool
    default: false
  certificate_key:
    description: Key that decrypts the control-plane certificates uploaded at init. Required with O(control_plane=true).
    type: str
  kubelet_kubeconfig:
    description: kubelet kubeconfig that kubeadm writes on a member node.
    type: path
    default: /etc/kubernetes/kubelet.conf
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - normaldance.platform.kubeadm
"""

EXAMPLES = r"""
- name: Join a worker
  normaldance.platform.kubeadm_join:
    config:
      apiVersion: kubeadm.k8s.io/v1beta4
      kind: JoinConfiguration
      nodeRegistration:
        name: "{{ inventory_hostname }}"
    api_server_endpoint: 10.210.0.10:6443
    token: "{{ join_token.token }}"
    discovery_token_ca_cert_hash: "{{ join_token.discovery_token_ca_cert_hash }}"
"""

RETURN = r"""
member:
  description: Whether the node is a member of the cluster after the task.
  returned: always
  type: bool
ran_join:
  description: Whether kubeadm join ran (or would run, in check mode).
  returned: always
  type: bool
role:
  description: The role the node joined as, C(control-plane) or C(worker).
  returned: always
  type: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.normaldance.platform.plugins.module_utils.kubeadm import (
    APISERVER_MANIFEST,
    KUBEADM_ARGSPEC,
    STATE_DIR,
    config_documents,
    find_binary,
    render_config,
    run,
    write_private,
    write_state,
)


def build_join_config(config, endpoint, token, ca_hash, certificate_key, control_plane):
    """The JoinConfiguration with discovery (and control-plane) settings filled in."""
    doc = json.loads(json.dumps(config))
    discovery = doc.setdefault("discovery", {})
    bootstrap = discovery.setdefault("bootstrapToken", {})
    bootstrap["apiServerEndpoint"] = endpoint
    bootstrap["caCertHashes"] = [ca_hash]
    if token is not None:
        bootstrap["token"] = token
    if control_plane:
        plane = doc.setdefault("controlPlane", {})
        if certificate_key is not None:
            plane["certificateKey"] = certificate_key
    else:
        doc.pop("controlPlane", None)
    return doc


def main():
    argument_spec = dict(
        config=dict(type="dict", required=True),
        api_server_endpoint=dict(type="str", required=True),
        token=dict(type="str", required=True, no_log=True),
        discovery_token_ca_cert_hash=dict(type="str", required=True, no_log=False),
        control_plane=dict(type="bool", default=False),
        certificate_key=dict(type="str", no_log=True),
        kubelet_kubeconfig=dict(type="path", default="/etc/kubernetes/kubelet.conf"),
    )
    argument_spec.update(KUBEADM_ARGSPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("control_plane", True, ("certificate_key",))],
    )
    params = module.params
    try:
        config_documents([params["config"]])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if params["config"]["kind"] != "JoinConfiguration":
        module.fail_json(msg="config must be a JoinConfiguration, not %s" % params["config"]["kind"])
    if not params["discovery_token_ca_cert_hash"].startswith("sha256:"):
        module.fail_json(msg="discovery_token_ca_cert_hash must look like sha256:<hex>")

    role = "control-plane" if params["control_plane"] else "worker"
    is_member = os.path.exists(params["kubelet_kubeconfig"])
    is_control_plane = os.path.exists(APISERVER_MANIFEST)
    if is_member:
        if params["control_plane"] and not is_control_plane:
            module.fail_json(msg="this node is already a worker of the cluster; it cannot become a control "
                                 "plane in place: remove it (remove_node.yml) and join it again")
        module.exit_json(changed=False, member=True, ran_join=False, role=role)

    public = build_join_config(params["config"], params["api_server_endpoint"], None,
                               params["discovery_token_ca_cert_hash"], None, params["control_plane"])
    result = dict(changed=True, member=not module.check_mode, ran_join=True, role=role)
    if module._diff:
        result["diff"] = dict(before="", after=render_config([public]), after_header="kubeadm join configuration")
    if module.check_mode:
        module.exit_json(**result)

    kubeadm = find_binary(module, "kubeadm", params["kubeadm_path"])
    secrets = [params["token"], params["certificate_key"]]
    full = build_join_config(params["config"], params["api_server_endpoint"], params["token"],
                             params["discovery_token_ca_cert_hash"], params["certificate_key"],
                             params["control_plane"])
    if not os.path.isdir(STATE_DIR):
        os.makedirs(STATE_DIR, mode=0o700)
    path = write_private(render_config([full]), directory=STATE_DIR)
    try:
        run(module, [kubeadm, "join", "--config", path], secrets=secrets)
    finally:
        os.unlink(path)
    write_state("kubeadm-join.json", public)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
