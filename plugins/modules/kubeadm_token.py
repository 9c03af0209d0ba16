#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubeadm_token
short_description: Create or reuse a kubeadm bootstrap token and report the discovery CA hash
version_added: 0.1.0
description:
  - Runs on an initialised control-plane node.
  - With O(state=present), returns a bootstrap token identified by O(description) that stays valid for
    at least O(min_remaining); an existing one is reused, otherwise a new one is created with O(ttl).
  - Also returns the discovery CA certificate hash that joining nodes pin.
  - With O(state=absent), deletes every token carrying O(description).
  - The token is a secret. The module never logs it, but it is part of the result so that a join can use it;
    always run this module with C(no_log=true) on the task.
author:
  - NORMALDANCE platform maintainers (@normaldance)
attributes:
  check_mode:
    support: full
    details: In check mode no token is created or deleted; a token that would be created is returned as C(null).
  platform:
    platforms: posix
  diff_mode:
    support: none
options:
  state:
    description: Whether a token with O(description) should exist.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: Text that identifies the tokens managed by this task.
    type: str
    default: normaldance.platform join
  ttl:
    description: Lifetime of a newly created token, as accepted by kubeadm (for example V(2h), V(30m)).
    type: str
    default: 2h
  min_remaining:
    description: An existing token is reused only while it has at least this many seconds left.
    type: int
    default: 1800
  kubeconfig:
    description: Administrator kubeconfig on the node.
    type: path
    default: /etc/kubernetes/admin.conf
  ca_cert:
    description: Cluster CA certificate whose public key joining nodes pin.
    type: path
    default: /etc/kubernetes/pki/ca.crt
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - normaldance.platform.kubeadm
"""

EXAMPLES = r"""
- name: Get a join token (never printed)
  normaldance.platform.kubeadm_token:
    ttl: 1h
  register: join_token
  no_log: true
  run_once: true
  delegate_to: "{{ groups['control_plane'][0] }}"
"""

RETURN = r"""
token:
  description: The bootstrap token (C(id.secret)). Secret; null in check mode when a token would be created.
  returned: state=present
  type: str
token_id:
  description: The public id part of the token.
  returned: state=present
  type: str
expires:
  description: Expiry time of the token (RFC 3339).
  returned: state=present
  type: str
discovery_token_ca_cert_hash:
  description: C(sha256:<hex>) of the cluster CA's public key.
  returned: state=present
  type: str
  sample: sha256:5a1e0c0f6dd32c6e8b3e44cb9c8b7b8fbcbf8cbd6c43b5f6d3e6f1f0e8a1b2c3
deleted:
  description: Ids of the tokens deleted.
  returned: state=absent
  type: list
  elements: str
"""

import datetime
import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.normaldance.platform.plugins.module_utils.kubeadm import (
    KUBEADM_ARGSPEC,
    find_binary,
    run,
    spki_sha256,
)


def parse_token_list(text):
    """Parse `kubeadm token list -o json`: a stream of JSON objects."""
    decoder = json.JSONDecoder()
    tokens, index = [], 0
    text = text or ""
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return tokens
        obj, index = decoder.raw_decode(text, index)
        tokens.append(obj)


def seconds_left(expires, now):
    """Seconds until an RFC 3339 expiry; None for tokens that never expire."""
    if not expires:
        return None
    when = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00"))
    return (when - now).total_seconds()


def pick_reusable(tokens, description, min_remaining, now):
    """The token with our description and the most time left, if enough."""
    best, best_left = None, None
    for token in tokens:
        if token.get("description") != description:
            continue
        left = seconds_left(token.get("expires"), now)
        if left is not None and left < min_remaining:
            continue
        if best is None or left is None or (best_left is not None and left > best_left):
            best, best_left = token, left
    return best


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str", default="normaldance.platform join"),
        ttl=dict(type="str", default="2h"),
        min_remaining=dict(type="int", default=1800),
        kubeconfig=dict(type="path", default="/etc/kubernetes/admin.conf"),
        ca_cert=dict(type="path", default="/etc/kubernetes/pki/ca.crt"),
    )
    argument_spec.update(KUBEADM_ARGSPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    kubeadm = find_binary(module, "kubeadm", params["kubeadm_path"])
    base = [kubeadm, "token"]
    kubeconfig = ["--kubeconfig", params["kubeconfig"]]

    _rc, out, _err = run(module, base + ["list", "-o", "json"] + kubeconfig)
    tokens = parse_token_list(out)
    secrets = [t.get("token", "") for t in tokens]
    now = datetime.datetime.now(datetime.timezone.utc)

    if params["state"] == "absent":
        doomed = [t["token"].split(".")[0] for t in tokens if t.get("description") == params["description"]]
        if doomed and not module.check_mode:
            run(module, base + ["delete"] + doomed + kubeconfig, secrets=secrets)
        module.exit_json(changed=bool(doomed), deleted=doomed)

    try:
        with open(params["ca_cert"], encoding="utf-8") as handle:
            ca_hash = spki_sha256(handle.read())
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot read the cluster CA certificate %s: %s" % (params["ca_cert"], exc))

    reusable = pick_reusable(tokens, params["description"], params["min_remaining"], now)
    if reusable:
        module.exit_json(
            changed=False,
            token=reusable["token"],
            token_id=reusable["token"].split(".")[0],
            expires=reusable.get("expires"),
            discovery_token_ca_cert_hash=ca_hash,
        )
    if module.check_mode:
        module.exit_json(changed=True, token=None, token_id=None, expires=None, discovery_token_ca_cert_hash=ca_hash)

    _rc, out, _err = run(
        module,
        base + ["create", "--ttl", params["ttl"], "--description", params["description"]] + kubeconfig,
    )
    token = out.strip().splitlines()[-1].strip() if out.strip() else ""
    if "." not in token:
        module.fail_json(msg="kubeadm token create returned no token")
    _rc, out, _err = run(module, base + ["list", "-o", "json"] + kubeconfig, secrets=[token])
    created = [t for t in parse_token_list(out) if t.get("token") == token]
    module.exit_json(
        changed=True,
        token=token,
        token_id=token.split(".")[0],
        expires=created[0].get("expires") if created else None,
        discovery_token_ca_cert_hash=ca_hash,
    )


if __name__ == "__main__":
    main()
