#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_snapshot
short_description: Take, verify, list and prune etcd snapshots on a control plane
version_added: 0.2.0
description:
  - Runs on a control plane with stacked etcd (kubeadm static pod).
  - With O(state=present), saves a new snapshot with C(etcdctl snapshot save) under a temporary name in
    O(dir), verifies it, and renames it atomically to C(<dir>/etcd-<host>-<UTC time>.db) (mode 0600;
    the directory is created with mode 0700). A C(<name>.sha256) file next to it holds its digest in
    C(sha256sum) format, so that copies can be checked anywhere. Old snapshots are then pruned by
    O(retention) and O(keep). Saving always reports C(changed), since every run adds a snapshot.
  - Saving takes the node's backup lock C(/run/lock/nd-etcd-backup.lock) first, as the scheduled backup of
    the role C(normaldance.platform.cluster_etcd_backup) does, and waits up to 15 minutes for it, so that a
    snapshot is never pruned or copied while another run handles it.
  - A snapshot is verified with C(etcdutl snapshot status -w json) (hash, revision, number of keys, size)
    and by checking the SHA-256 trailer etcd appends to each snapshot, the check C(etcdutl snapshot
    restore) makes. A new snapshot that fails either check is deleted and the task fails.
  - With O(state=verified), verifies the snapshot O(path) without changing anything, and fails with a
    message that names the problem when it is damaged. Restores check snapshots this way before they
    touch a node.
  - With O(state=listed), returns the snapshots in O(dir) with their size, time and revision (the state is
    named V(listed), not V(list), which Ansible keeps for C(_info) modules).
author:
  - NORMALDANCE platform maintainers (@normaldance)
attributes:
  check_mode:
    support: full
    details:
      - With O(state=present), nothing is written or deleted; the result names the snapshot that would be
        taken (without its details) and the snapshots that would be pruned.
      - O(state=verified) and O(state=listed) only read, in check mode as otherwise.
  platform:
    platforms: posix
  diff_mode:
    support: full
    details: With O(state=present), shows the snapshot files of O(dir) before and after the run.
options:
  state:
    description: Take a snapshot (V(present)), check one (V(verified)) or list them (V(listed)).
    type: str
    choices: [present, verified, listed]
    default: present
  dir:
    description: Directory holding the snapshots.
    type: path
    default: /var/lib/etcd-backup
  path:
    description: The snapshot file to check. Required with O(state=verified).
    type: path
  checksum:
    description:
      - Hex SHA-256 the whole file O(path) must have (O(state=verified)).
      - When unset, the digest in C(<path>.sha256) is checked if that file exists.
    type: str
  host:
    description: Host name put into the snapshot's file name; defaults to the node's short host name.
    type: str
  retention:
    description:
      - After a save, delete snapshots of O(dir) older than this duration (for example V(7d), V(12h), V(1h30m);
        units C(s), C(m), C(h), C(d), C(w)). The newest snapshot is always kept.
    type: str
  keep:
    description: After a save, keep at most this many snapshots in O(dir) (V(0) means no limit by count).
    type: int
    default: 0
  endpoints:
    description: etcd client URL(s), comma-separated.
    type: str
    default: https://127.0.0.1:2379
  cacert:
    description: CA certificate of etcd's client endpoint.
    type: path
    default: /etc/kubernetes/pki/etcd/ca.crt
  cert:
    description: Client certificate for etcd (the kubeadm health-check client can take snapshots).
    type: path
    default: /etc/kubernetes/pki/etcd/healthcheck-client.crt
  key:
    description: Key of O(cert).
    type: path
    default: /etc/kubernetes/pki/etcd/healthcheck-client.key
  etcdctl_path:
    description: The etcdctl binary, by name (looked up on the node's path) or by full path.
    type: path
    default: etcdctl
  etcdutl_path:
    description: The etcdutl binary, by name or by full path.
    type: path
    default: etcdutl
  lock_file:
    description:
      - The node's backup lock, taken before a snapshot is saved (O(state=present)) and shared with the
        scheduled backup of the role C(normaldance.platform.cluster_etcd_backup).
    type: path
    default: /run/lock/nd-etcd-backup.lock
requirements:
  - etcdctl and etcdutl on the node (role C(normaldance.platform.cluster_etcd_backup) installs them).
seealso:
  - name: etcd disaster recovery
    description: Restoring a cluster from a snapshot.
    link: https://etcd.io/docs/v3.6/op-guide/recovery/
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Take a snapshot now and keep seven days of them
  normaldance.platform.etcd_snapshot:
    dir: /var/lib/etcd-backup
    retention: 7d

- name: Refuse a damaged snapshot before restoring it
  normaldance.platform.etcd_snapshot:
    state: verified
    path: /var/lib/etcd-restore/etcd-nd-cp1-20260101T000000Z.db

- name: List the snapshots of this control plane
  normaldance.platform.etcd_snapshot:
    state: listed
  register: snapshots
"""

RETURN = r"""
path:
  description: The snapshot taken (or that would be taken, in check mode), or the one verified.
  returned: state=present or state=verified
  type: str
  sample: /var/lib/etcd-backup/etcd-nd-cp1-20260101T000000Z.db
snapshot:
  description: What etcdutl reports about the snapshot; null in check mode.
  returned: state=present or state=verified
  type: dict
  contains:
    hash:
      description: etcd's hash of the keys and values.
      type: int
    revision:
      description: Revision of the key space in the snapshot.
      type: int
    total_keys:
      description: Number of keys.
      type: int
    total_size:
      description: Size of the database in bytes.
      type: int
    version:
      description: Storage version of etcd that wrote it.
      type: str
    sha256:
      description: SHA-256 of the whole file.
      type: str
    integrity:
      description: V(trailer) when etcd's SHA-256 trailer was checked, V(status) when the file has none
        (a copy of a data directory) and only the database structure was checked.
      type: str
pruned:
  description: Snapshots deleted (or that would be, in check mode) by O(retention) and O(keep).
  returned: state=present
  type: list
  elements: str
snapshots:
  description: The snapshots in O(dir), oldest first.
  returned: state=listed
  type: list
  elements: dict
  contains:
    path:
      description: Full path.
      type: str
    host:
      description: Host the snapshot was taken on (from its name).
      type: str
    time:
      description: When it was taken (UTC, ISO 8601).
      type: str
    size:
      description: File size in bytes.
      type: int
    revision:
      description: Revision of the key space; null when etcdutl cannot read the file.
      type: int
    valid:
      description: Whether etcdutl could read the file.
      type: bool
"""

import datetime
import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.normaldance.platform.plugins.module_utils.duration import DurationError, parse_duration
from ansible_collections.normaldance.platform.plugins.module_utils.etcd_snapshot import (
    SnapshotError,
    check_trailer,
    LOCK_FILE,
    take_lock,
    file_sha256,
    list_snapshots,
    parse_status,
    read_sidecar,
    select_prune,
    snapshot_name,
)


def find_binary(module, name, path):
    """Resolve a binary given by name or path; fail with a clear message."""
    if os.path.sep in path:
        if not os.access(path, os.X_OK):
            module.fail_json(msg="%s is not an executable file: %s" % (name, path))
        return path
    found = module.get_bin_path(path, opt_dirs=["/usr/local/bin", "/usr/bin"])
    if not found:
        module.fail_json(msg="%s not found on the node; install it first (role cluster_etcd_backup)" % path)
    return found


def status(module, etcdutl, path):
    """etcdutl's report on a snapshot, or SnapshotError naming the problem."""
    rc, out, err = module.run_command([etcdutl, "snapshot", "status", "-w", "json", path])
    if rc != 0:
        lines = [line for line in (err or out or "").strip().splitlines() if line.strip()]
        # A damaged database makes etcdutl panic; the first line says why.
        reason = next((line for line in lines if line.startswith(("Error", "panic"))), lines[-1] if lines else "")
        raise SnapshotError("etcdutl snapshot status failed (rc=%d): %s" % (rc, reason.strip()[:500]))
    return parse_status(out)


def verify(module, etcdutl, path, checksum=None):
    """Check a snapshot; return its details or raise SnapshotError."""
    if not os.path.isfile(path):
        raise SnapshotError("no such file")
    expected = (checksum or read_sidecar(path) or "").lower()
    actual = file_sha256(path)
    if expected and expected != actual:
        raise SnapshotError("its SHA-256 is %s, expected %s (the file is damaged or not the one meant)" % (actual, expected))
    details = status(module, etcdutl, path)
    details["integrity"] = "trailer" if check_trailer(path) else "status"
    details["sha256"] = actual
    return details


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def listing(snapshots):
    return "".join("%s\n" % s["name"] for s in snapshots)


def remove_quietly(path):
    for doomed in (path, path + ".sha256"):
        try:
            os.unlink(doomed)
        except FileNotFoundError:
            pass


def save(module, params, now):
    directory = params["dir"]
    before = list_snapshots(directory)
    name = snapshot_name(params["host"] or socket.gethostname().split(".")[0], now)
    final = os.path.join(directory, name)
    retention = None
    if params["retention"]:
        try:
            retention = parse_duration(params["retention"])
        except DurationError as exc:
            module.fail_json(msg="retention %r: %s; use for example 7d, 12h or 1h30m" % (params["retention"], exc))
    if params["keep"] < 0:
        module.fail_json(msg="keep must be 0 (no limit) or more, got %d" % params["keep"])

    planned = before + [{"name": name, "path": final, "host": "", "time": now, "size": 0}]
    doomed = select_prune(planned, now, retention, params["keep"], protect=(final,))
    result = dict(changed=True, path=final, snapshot=None, pruned=[d["path"] for d in doomed])
    if module._diff:
        after = [s for s in planned if s["path"] not in result["pruned"]]
        result["diff"] = dict(before_header=directory, after_header=directory,
                              before=listing(before), after=listing(after))
    if module.check_mode:
        module.exit_json(**result)

    etcdctl = find_binary(module, "etcdctl", params["etcdctl_path"])
    etcdutl = find_binary(module, "etcdutl", params["etcdutl_path"])
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    os.chmod(directory, 0o700)
    partial = os.path.join(directory, "." + name + ".part")
    argv = [etcdctl, "--endpoints", params["endpoints"], "--cacert", params["cacert"],
            "--cert", params["cert"], "--key", params["key"], "snapshot", "save", partial]
    old_umask = os.umask(0o077)
    try:
        rc, out, err = module.run_command(argv)
    finally:
        os.umask(old_umask)
    if rc != 0:
        remove_quietly(partial)
        module.fail_json(msg="etcdctl snapshot save failed (rc=%d): %s" % (rc, (err or out).strip()[-1000:]), rc=rc)
    try:
        os.chmod(partial, 0o600)
        details = verify(module, etcdutl, partial)
    except (OSError, SnapshotError) as exc:
        remove_quietly(partial)
        module.fail_json(msg="the new snapshot failed verification and was deleted: %s" % exc)
    os.rename(partial, final)
    sidecar = final + ".sha256"
    with open(sidecar + ".part", "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write("%s  %s\n" % (details["sha256"], name))
    os.rename(sidecar + ".part", sidecar)
    for snap in doomed:
        remove_quietly(snap["path"])
    result["snapshot"] = details
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "verified", "listed"], default="present"),
            dir=dict(type="path", default="/var/lib/etcd-backup"),
            path=dict(type="path"),
            checksum=dict(type="str"),
            host=dict(type="str"),
            retention=dict(type="str"),
            keep=dict(type="int", default=0),
            endpoints=dict(type="str", default="https://127.0.0.1:2379"),
            cacert=dict(type="path", default="/etc/kubernetes/pki/etcd/ca.crt"),
            cert=dict(type="path", default="/etc/kubernetes/pki/etcd/healthcheck-client.crt"),
            key=dict(type="path", default="/etc/kubernetes/pki/etcd/healthcheck-client.key", no_log=False),
            etcdctl_path=dict(type="path", default="etcdctl"),
            etcdutl_path=dict(type="path", default="etcdutl"),
            lock_file=dict(type="path", default=LOCK_FILE),
        ),
        required_if=[("state", "verified", ["path"])],
        supports_check_mode=True,
    )
    params = module.params
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    if params["state"] == "present":
        lock = None
        if not module.check_mode:
            try:
                lock = take_lock(params["lock_file"])
            except SnapshotError as exc:
                module.fail_json(msg=str(exc))
        try:
            save(module, params, now)
        finally:
            if lock is not None:
                os.close(lock)

    etcdutl = find_binary(module, "etcdutl", params["etcdutl_path"])
    if params["state"] == "verified":
        try:
            details = verify(module, etcdutl, params["path"], params["checksum"])
        except (OSError, SnapshotError) as exc:
            module.fail_json(msg="snapshot %s is corrupt or unusable, refusing it: %s" % (params["path"], exc),
                             path=params["path"])
        module.exit_json(changed=False, path=params["path"], snapshot=details)

    snapshots = []
    for snap in list_snapshots(params["dir"]):
        try:
            details = status(module, etcdutl, snap["path"])
            revision, valid = details["revision"], True
        except SnapshotError:
            revision, valid = None, False
        snapshots.append(dict(path=snap["path"], host=snap["host"], time=iso(snap["time"]),
                              size=snap["size"], revision=revision, valid=valid))
    module.exit_json(changed=False, snapshots=snapshots)


if __name__ == "__main__":
    main()
