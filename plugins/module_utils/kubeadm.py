# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the kubeadm_* modules: paths, running kubeadm with
secrets kept out of results, kubeadm configuration documents, drift."""

from __future__ import annotations

import json
import os
import re
import tempfile

KUBERNETES_DIR = "/etc/kubernetes"
ADMIN_CONF = os.path.join(KUBERNETES_DIR, "admin.conf")
KUBELET_CONF = os.path.join(KUBERNETES_DIR, "kubelet.conf")
APISERVER_MANIFEST = os.path.join(KUBERNETES_DIR, "manifests", "kube-apiserver.yaml")
CA_CERT = os.path.join(KUBERNETES_DIR, "pki", "ca.crt")
STATE_DIR = os.path.join(KUBERNETES_DIR, "normaldance")

KUBEADM_ARGSPEC = dict(
    kubeadm_path=dict(type="path", default="kubeadm"),
    kubectl_path=dict(type="path", default="kubectl"),
)

# A bootstrap token (abcdef.0123456789abcdef), a certificate key (64 hex
# digits) and "--token"/"--certificate-key" arguments: never let them reach
# a result, a log or an error message.
_TOKEN_RE = re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b")
_CERTKEY_RE = re.compile(r"\b[a-f0-9]{64}\b")


def redact(text, secrets=()):
    """Return text with bootstrap tokens, certificate keys and the given secrets masked."""
    if not text:
        return text
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    text = _TOKEN_RE.sub("******.****************", text)
    return _CERTKEY_RE.sub("<certificate-key>", text)


def find_binary(module, name, path):
    """Resolve a binary given by name or path; fail with a clear message."""
    if os.path.sep in path:
        if not os.access(path, os.X_OK):
            module.fail_json(msg="%s is not an executable file: %s" % (name, path))
        return path
    found = module.get_bin_path(path, opt_dirs=["/usr/local/bin", "/usr/bin"])
    if not found:
        module.fail_json(msg="%s not found on %s; install it first (role node_kube_binaries)" % (path, name))
    return found


def run(module, argv, secrets=(), check_rc=True, data=None):
    """Run a command; on failure, fail with its output redacted."""
    rc, out, err = module.run_command(argv, data=data)
    if rc != 0 and check_rc:
        command = " ".join(redact(a, secrets) for a in argv[:3])
        detail = redact(err or out, secrets).strip()[-2000:]
        module.fail_json(msg="%s failed (rc=%d): %s" % (command, rc, detail), rc=rc)
    return rc, out, err


def config_documents(documents):
    """Validate a list of kubeadm configuration documents (dicts) and index them by kind."""
    by_kind = {}
    for index, doc in enumerate(documents or []):
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise ValueError("config[%d] must be a mapping with apiVersion and kind" % index)
        if doc["kind"] in by_kind:
            raise ValueError("config has two %s documents" % doc["kind"])
        by_kind[doc["kind"]] = doc
    return by_kind


def render_config(documents):
    """Render documents as a YAML stream; JSON is valid YAML, so no YAML
    library is needed on the node."""
    return "".join("---\n%s\n" % json.dumps(doc, indent=2, sort_keys=True) for doc in documents)


def write_private(content, directory=None, prefix="kubeadm-"):
    """Write content to a new 0600 file and return its path; the caller removes it."""
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=".yaml", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content.encode("utf-8"))
    finally:
        os.close(fd)
    return path


def subset_drift(desired, running, prefix=""):
    """Compare only what the desired configuration sets with the running one.

    kubeadm stores its configuration with every default filled in, so a
    full comparison would always differ. Returns a list of
    (path, running_value, desired_value) for each difference.
    """
    drift = []
    if isinstance(desired, dict):
        running = running if isinstance(running, dict) else {}
        for key in sorted(desired):
            path = "%s.%s" % (prefix, key) if prefix else key
            drift.extend(subset_drift(desired[key], running.get(key), path))
    elif isinstance(desired, list) and all(isinstance(x, dict) for x in desired) and desired:
        if not isinstance(running, list) or len(desired) != len(running):
            drift.append((prefix, running, desired))
        else:
            for index, (want, have) in enumerate(zip(desired, running)):
                drift.extend(subset_drift(want, have, "%s[%d]" % (prefix, index)))
    elif desired != running:
        drift.append((prefix, running, desired))
    return drift


def read_state(name):
    """Read a JSON record that a module left in STATE_DIR; None if absent."""
    path = os.path.join(STATE_DIR, name)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_state(name, data):
    """Record data (never secrets) as JSON in STATE_DIR with mode 0600."""
    if not os.path.isdir(STATE_DIR):
        os.makedirs(STATE_DIR, mode=0o700)
    path = os.path.join(STATE_DIR, name)
    tmp = write_private(json.dumps(data, indent=2, sort_keys=True) + "\n", directory=STATE_DIR, prefix=".state-")
    os.rename(tmp, path)


def strip_keys(document, paths):
    """Return a deep copy of document without the dotted key paths given."""
    copy = json.loads(json.dumps(document))
    for dotted in paths:
        node = copy
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(keys[-1], None)
    return copy


def _der_element(data, offset):
    """Return (tag, start_of_content, end_of_element) of the DER element at offset."""
    tag = data[offset]
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    return tag, offset, offset + length


def spki_sha256(pem_text):
    """SHA-256 of a certificate's DER SubjectPublicKeyInfo, as kubeadm's
    --discovery-token-ca-cert-hash expects ("sha256:<hex>"). Pure Python:
    the node needs no crypto library for it."""
    import base64
    import hashlib

    body = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", pem_text, re.S)
    if not body:
        raise ValueError("no PEM certificate found")
    der = base64.b64decode("".join(body.group(1).split()))
    _tag, cert_start, _end = _der_element(der, 0)          # Certificate
    _tag, tbs_start, _end = _der_element(der, cert_start)  # tbsCertificate
    offset = tbs_start
    tag, _start, end = _der_element(der, offset)
    if tag == 0xA0:  # explicit [0] version
        offset = end
    # serialNumber, signature, issuer, validity, subject, then the key info
    for _skip in range(5):
        _tag, _start, offset = _der_element(der, offset)
    tag, _start, end = _der_element(der, offset)
    if tag != 0x30:
        raise ValueError("unexpected certificate layout")
    return "sha256:" + hashlib.sha256(der[offset:end]).hexdigest()
