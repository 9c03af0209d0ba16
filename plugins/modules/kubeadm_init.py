#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubeadm_init
short_description: Initialise the first Kubernetes control plane with kubeadm, or report configuration drift
version_added: 0.1.0
description:
  - Runs C(kubeadm init) with the given configuration documents on a node that is not yet a control plane.
  - On a node that already runs a control plane it changes nothing and compares the desired
    C(ClusterConfiguration) with the one stored in the cluster (ConfigMap C(kube-system/kubeadm-config)),
    reporting every setting that differs (drift). Only the settings given in O(config) are compared,
    because kubeadm stores its configuration with all defaults filled in.
  - Secrets (O(certificate_key), O(token)) are written only to a temporary file with mode 0600 that is
    removed after use, and never appear in results or messages.
author:
  - NORMALDANCE platform maintainers (@normaldance)
attributes:
  check_mode:
    support: full
    details: In check mode nothing is run that changes the node; the result says whether init would run.
  platform:
    platforms: posix
  diff_mode:
    support: full
    details: Shows the configuration that init would use, or the drifted settings of a running cluster.
options:
  config:
    description:
      - kubeadm configuration documents (mappings with C(apiVersion) and C(kind)), for example
        C(InitConfiguration), C(ClusterConfiguration), C(KubeletConfiguration), C(KubeProxyConfiguration).
      - An C(InitConfiguration) and a C(ClusterConfiguration) are required.
    type: list
    elements: dict
    required: true
  certificate_key:
    description:
      - Key (64 hex digits) used to encrypt the control-plane certificates uploaded for further control
        planes (C(kubeadm init --upload-certs)). When unset, certificates are not uploaded.
    type: str
  token:
    description: Bootstrap token (C(id.secret)) created at init for joining nodes.
    type: str
  admin_kubeconfig:
    description: Administrator kubeconfig written by kubeadm.
    type: path
    default: /etc/kubernetes/admin.conf
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - normaldance.platform.kubeadm
"""

EXAMPLES = r"""
- name: Initialise the first control plane
  normaldance.platform.kubeadm_init:
    config:
      - apiVersion: kubeadm.k8s.io/v1beta4
        kind: InitConfiguration
        localAPIEndpoint:
          advertiseAddress: 10.210.0.11
      - apiVersion: kubeadm.k8s.io/v1beta4
        kind: ClusterConfiguration
        kubernetesVersion: v1.36.5
        controlPlaneEndpoint: 10.210.0.10:6443
    certificate_key: "{{ cluster_certificate_key }}"
"""

RETURN = r"""
initialized:
  description: Whether the node runs an initialised control plane after the task.
  returned: always
  type: bool
ran_init:
  description: Whether kubeadm init ran (or would run, in check mode).
  returned: always
  type: bool
drift:
  description: Settings whose running value differs from the desired one (empty when none or when init ran).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Dotted path of the setting in C(ClusterConfiguration).
      type: str
    running:
      description: Value in the running cluster.
      type: raw
    desired:
      description: Value in O(config).
      type: raw
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
    redact,
    render_config,
    run,
    strip_keys,
    subset_drift,
    write_private,
    write_state,
)

try:
    import yaml
    HAS_YAML = True
except ImportError:  # the drift report needs it; init itself does not
    HAS_YAML = False

SECRET_PATHS = {"InitConfiguration": ["certificateKey", "bootstrapTokens"]}


def public_documents(documents):
    """The configuration without its secrets, for diffs and the on-node record."""
    return [strip_keys(doc, SECRET_PATHS.get(doc["kind"], [])) for doc in documents]


def with_secrets(documents, certificate_key, token):
    """Copies of the documents with the secrets put in place."""
    result = []
    for doc in documents:
        doc = json.loads(json.dumps(doc))
        if doc["kind"] == "InitConfiguration":
            if certificate_key:
                doc["certificateKey"] = certificate_key
            if token:
                tokens = doc.get("bootstrapTokens") or [{}]
                tokens[0]["token"] = token
                doc["bootstrapTokens"] = tokens
        result.append(doc)
    return result


def running_cluster_configuration(module, kubectl, kubeconfig):
    """ClusterConfiguration stored in the cluster, or None with a warning."""
    if not HAS_YAML:
        module.warn("python3-yaml is missing on the node: configuration drift cannot be checked")
        return None
    rc, out, err = run(
        module,
        [kubectl, "--kubeconfig", kubeconfig, "get", "configmap", "kubeadm-config",
         "--namespace", "kube-system", "--output", "json"],
        check_rc=False,
    )
    if rc != 0:
        module.warn("cannot read kube-system/kubeadm-config to check drift: %s" % redact(err).strip())
        return None
    data = json.loads(out).get("data", {})
    return yaml.safe_load(data.get("ClusterConfiguration", "")) or {}


def main():
    argument_spec = dict(
        config=dict(type="list", elements="dict", required=True),
        certificate_key=dict(type="str", no_log=True),
        token=dict(type="str", no_log=True),
        admin_kubeconfig=dict(type="path", default="/etc/kubernetes/admin.conf"),
    )
    argument_spec.update(KUBEADM_ARGSPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    try:
        by_kind = config_documents(params["config"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for needed in ("InitConfiguration", "ClusterConfiguration"):
        if needed not in by_kind:
            module.fail_json(msg="config needs a %s document" % needed)

    documents = params["config"]
    public = public_documents(documents)
    initialized = os.path.exists(params["admin_kubeconfig"]) and os.path.exists(APISERVER_MANIFEST)

    if initialized:
        drift = []
        running = running_cluster_configuration(module, params["kubectl_path"], params["admin_kubeconfig"])
        if running is not None:
            desired = dict((k, v) for k, v in by_kind["ClusterConfiguration"].items() if k not in ("apiVersion", "kind"))
            drift = [dict(path=p, running=r, desired=d) for p, r, d in subset_drift(desired, running)]
            for item in drift:
                module.warn("configuration drift: ClusterConfiguration.%s is %r in the cluster, %r desired"
                            % (item["path"], item["running"], item["desired"]))
        result = dict(changed=False, initialized=True, ran_init=False, drift=drift)
        if module._diff and drift:
            result["diff"] = dict(
                before_header="running ClusterConfiguration",
                after_header="desired ClusterConfiguration",
                before="".join("%s: %s\n" % (d["path"], json.dumps(d["running"])) for d in drift),
                after="".join("%s: %s\n" % (d["path"], json.dumps(d["desired"])) for d in drift),
            )
        module.exit_json(**result)

    result = dict(changed=True, initialized=not module.check_mode, ran_init=True, drift=[])
    if module._diff:
        result["diff"] = dict(before="", after=render_config(public), after_header="kubeadm init configuration")
    if module.check_mode:
        module.exit_json(**result)

    kubeadm = find_binary(module, "kubeadm", params["kubeadm_path"])
    secrets = [params["certificate_key"], params["token"]]
    if not os.path.isdir(STATE_DIR):
        os.makedirs(STATE_DIR, mode=0o700)
    path = write_private(render_config(with_secrets(documents, params["certificate_key"], params["token"])),
                         directory=STATE_DIR)
    try:
        argv = [kubeadm, "init", "--config", path]
        if params["certificate_key"]:
            argv.append("--upload-certs")
        run(module, argv, secrets=secrets)
    finally:
        os.unlink(path)
    write_state("kubeadm-init.json", public)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
