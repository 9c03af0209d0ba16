#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mirror_binaries
short_description: Install executables from a files mirror, each checked against its SHA-256, in one call
version_added: 0.2.0
description:
  - Installs a list of executables from a files mirror (the layout of C(dl.k8s.io) and of the lab mirror, where
    C(<url>.sha256) holds the hex digest of C(<url>)).
  - Each binary is kept in a directory of its own version (O(binaries[].versioned_dir)) and its install path
    (O(binaries[].dest)) is a symbolic link to that copy, so that a version change replaces the binary and
    the old copy stays for a rollback.
  - A copy already on the node is hashed and kept when its SHA-256 is the expected one; otherwise it is
    downloaded again into a temporary file beside it, checked, and renamed into place. Nothing that fails
    the check is ever installed.
  - One call handles the whole list, which is much cheaper than one C(ansible.builtin.get_url) task (plus a
    directory and a link task) per binary on every node.
author:
  - NORMALDANCE platform maintainers (@normaldance)
attributes:
  check_mode:
    support: full
    details: In check mode nothing is downloaded or linked; the result says what would change.
  diff_mode:
    support: full
    details: The diff lists, per binary, the link target and SHA-256 before and after.
  platform:
    platforms: posix
options:
  names:
    description:
      - Names of executables that lie side by side on the mirror, installed as C(<dest_dir>/<name>) linked to
        C(<versioned_dir>/<name>) from C(<base_url>/<name>).
      - Shorthand for O(binaries); both may be given.
    type: list
    elements: str
    default: []
  base_url:
    description: Mirror directory that holds O(names). Required with O(names).
    type: str
  dest_dir:
    description: Directory of the links for O(names). Required with O(names).
    type: path
  versioned_dir:
    description: Directory of the versioned copies for O(names). Required with O(names).
    type: path
  binaries:
    description: The executables to install, each with its own URL and paths.
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description: URL of the executable on the files mirror.
        type: str
        required: true
      dest:
        description: Absolute path of the link that points at the installed copy, for example C(/usr/local/bin/kubeadm).
        type: path
        required: true
      versioned_dir:
        description:
          - Directory that keeps one copy per version, for example C(/usr/local/lib/normaldance/kubernetes/v1.36.5).
          - The copy is C(<versioned_dir>/<basename of url>).
        type: path
        required: true
      checksum:
        description:
          - V(sha256:<hex digest>) or V(sha256:<url of a file holding the digest>).
          - Defaults to V(sha256:<url>.sha256).
        type: str
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 60
  retries:
    description: How many times a failed download is tried again before the module fails.
    type: int
    default: 3
  validate_certs:
    description: Whether to verify the mirror's TLS certificate for C(https) URLs.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Install kubeadm, kubelet and kubectl from the mirror
  normaldance.platform.mirror_binaries:
    binaries:
      - url: https://files.example.org/release/v1.36.5/bin/linux/amd64/kubeadm
        dest: /usr/local/bin/kubeadm
        versioned_dir: /usr/local/lib/normaldance/kubernetes/v1.36.5
      - url: https://files.example.org/release/v1.36.5/bin/linux/amd64/kubelet
        dest: /usr/local/bin/kubelet
        versioned_dir: /usr/local/lib/normaldance/kubernetes/v1.36.5
"""

RETURN = r"""
binaries:
  description: One entry per binary, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: The link.
      type: str
    path:
      description: The versioned copy the link points at.
      type: str
    sha256:
      description: The expected (and, unless in check mode, verified) SHA-256 of the copy.
      type: str
    downloaded:
      description: Whether the copy was (or, in check mode, would be) downloaded.
      type: bool
    linked:
      description: Whether the link was (or would be) created or changed.
      type: bool
"""

import hashlib
import os
import re
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

_HEX = re.compile(r"\b([0-9a-fA-F]{64})\b")
_CHUNK = 1024 * 1024


def file_sha256(path):
    """Return the hex SHA-256 of a file, or None when it does not exist."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def parse_digest(text, source):
    """Return the first SHA-256 hex digest in ``text`` (a .sha256 file: digest, optionally a name)."""
    match = _HEX.search(text)
    if not match:
        raise ValueError("%s holds no SHA-256 hex digest" % source)
    return match.group(1).lower()


def expected_digest(item, fetch):
    """The digest an item must have: given inline, or read from its checksum URL with ``fetch``."""
    checksum = item.get("checksum") or "sha256:%s.sha256" % item["url"]
    algorithm, _sep, value = checksum.partition(":")
    if algorithm != "sha256" or not value:
        raise ValueError("checksum %r of %s is not 'sha256:<hex>' or 'sha256:<url>'" % (checksum, item["url"]))
    if _HEX.fullmatch(value):
        return value.lower()
    return parse_digest(fetch(value).decode("utf-8", "replace"), value)


def link_target(path):
    """Where a symbolic link points, or None when ``path`` is no link."""
    try:
        return os.readlink(path)
    except (FileNotFoundError, OSError):
        return None


class Installer:
    """Installs the binaries of one module call; ``opener`` is open_url-compatible (tests pass a fake)."""

    def __init__(self, module, opener=open_url):
        self.module = module
        self.opener = opener
        self.params = module.params

    def fetch(self, url):
        last = None
        for attempt in range(self.params["retries"] + 1):
            try:
                response = self.opener(url, timeout=self.params["timeout"],
                                       validate_certs=self.params["validate_certs"])
                return response.read()
            except Exception as exc:  # noqa: BLE001 - every transport error is retried, then reported
                last = exc
                if attempt < self.params["retries"]:
                    time.sleep(min(5, 1 + attempt * 2))
        raise RuntimeError("cannot download %s: %s" % (url, last))

    def _stream(self, url, out):
        """Copy the body of ``url`` into the open file ``out``; return its SHA-256."""
        digest = hashlib.sha256()
        response = self.opener(url, timeout=self.params["timeout"], validate_certs=self.params["validate_certs"])
        for block in iter(lambda: response.read(_CHUNK), b""):
            digest.update(block)
            out.write(block)
        return digest.hexdigest()

    def download(self, url, path, digest):
        """Download ``url`` to ``path`` through a temporary file in the same directory; check its digest."""
        directory = os.path.dirname(path)
        handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
        try:
            with os.fdopen(handle, "wb") as out:
                last = None
                for attempt in range(self.params["retries"] + 1):
                    out.seek(0)
                    out.truncate()
                    try:
                        got = self._stream(url, out)
                        break
                    except Exception as exc:  # noqa: BLE001 - every transport error is retried, then reported
                        last = exc
                        if attempt < self.params["retries"]:
                            time.sleep(min(5, 1 + attempt * 2))
                else:
                    raise RuntimeError("cannot download %s: %s" % (url, last))
            if got != digest:
                raise RuntimeError("%s has SHA-256 %s, the mirror says %s; not installed" % (url, got, digest))
            os.chmod(temporary, 0o755)
            os.rename(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def install(self, item):
        check = self.module.check_mode
        path = os.path.join(item["versioned_dir"], os.path.basename(item["url"].rstrip("/")))
        digest = expected_digest(item, self.fetch)
        before_sha = file_sha256(path)
        downloaded = before_sha != digest
        mode_wrong = not downloaded and (os.stat(path).st_mode & 0o7777) != 0o755
        if not check:
            if not os.path.isdir(item["versioned_dir"]):
                os.makedirs(item["versioned_dir"], mode=0o755)
            if downloaded:
                self.download(item["url"], path, digest)
            elif mode_wrong:
                os.chmod(path, 0o755)
        before_link = link_target(item["dest"])
        linked = before_link != path
        if linked and not check:
            parent = os.path.dirname(item["dest"])
            if not os.path.isdir(parent):
                os.makedirs(parent, mode=0o755)
            temporary = "%s.normaldance-link" % item["dest"]
            if os.path.lexists(temporary):
                os.unlink(temporary)
            os.symlink(path, temporary)
            os.rename(temporary, item["dest"])
        result = dict(dest=item["dest"], path=path, sha256=digest, downloaded=downloaded, linked=linked)
        diff = None
        if downloaded or linked or mode_wrong:
            diff = dict(
                before="%s -> %s (sha256 %s)\n" % (item["dest"], before_link, before_sha),
                after="%s -> %s (sha256 %s)\n" % (item["dest"], path, digest),
            )
        return result, downloaded or linked or mode_wrong, diff


def items(params):
    """The binaries of a call: O(binaries) followed by those O(names) expands to."""
    expanded = list(params["binaries"])
    base = (params["base_url"] or "").rstrip("/")
    for name in params["names"]:
        expanded.append(dict(url="%s/%s" % (base, name), dest=os.path.join(params["dest_dir"], name),
                             versioned_dir=params["versioned_dir"], checksum=None))
    return expanded


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", default=[]),
            base_url=dict(type="str"),
            dest_dir=dict(type="path"),
            versioned_dir=dict(type="path"),
            binaries=dict(type="list", elements="dict", default=[], options=dict(
                url=dict(type="str", required=True),
                dest=dict(type="path", required=True),
                versioned_dir=dict(type="path", required=True),
                checksum=dict(type="str"),
            )),
            timeout=dict(type="int", default=60),
            retries=dict(type="int", default=3),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    missing = [name for name in ("base_url", "dest_dir", "versioned_dir") if not module.params[name]]
    if module.params["names"] and missing:
        module.fail_json(msg="names needs %s as well" % ", ".join(missing))
    installer = Installer(module)
    results, diffs, changed = [], [], False
    for item in items(module.params):
        try:
            result, item_changed, diff = installer.install(item)
        except (RuntimeError, ValueError, OSError) as exc:
            module.fail_json(msg=str(exc), binaries=results)
        results.append(result)
        changed = changed or item_changed
        if diff:
            diffs.append(diff)
    output = dict(changed=changed, binaries=results)
    if module._diff and diffs:
        output["diff"] = dict(before="".join(d["before"] for d in diffs), after="".join(d["after"] for d in diffs))
    module.exit_json(**output)


if __name__ == "__main__":
    main()
