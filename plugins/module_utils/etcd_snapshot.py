# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd snapshot files: their names, their integrity and which to prune.

Pure functions (no AnsibleModule) so that the module and its tests share
them. A snapshot is named ``etcd-<host>-<YYYYmmddTHHMMSSZ>.db``; the time
in the name is the UTC time it was taken, which orders snapshots even when
copies lose their modification times.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
import os
import re
import time

# One backup at a time on a node: the scheduled run (the timer's script) and
# a run of the playbook take this lock, so that neither prunes or ships a
# snapshot the other is writing or moving.
LOCK_FILE = "/run/lock/nd-etcd-backup.lock"
LOCK_TIMEOUT = 900


def take_lock(path=LOCK_FILE, timeout=LOCK_TIMEOUT):
    """Hold the node's backup lock until the process ends; return its file descriptor.

    Raises SnapshotError when another backup holds it for ``timeout`` seconds.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(handle)
                raise SnapshotError("another etcd backup on this node has held %s for %d s" % (path, timeout))
            time.sleep(1)


NAME_RE = re.compile(r"^etcd-(?P<host>.+)-(?P<stamp>[0-9]{8}T[0-9]{6}Z)\.db$")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"

# etcd appends the SHA-256 of the database to the snapshot it streams
# (etcdctl keeps it); etcdutl snapshot restore checks it. A bbolt file is a
# whole number of pages (multiples of 512 bytes), so a file whose size is
# 32 more than such a multiple carries the trailer.
TRAILER = 32
_CHUNK = 1024 * 1024


class SnapshotError(ValueError):
    """A snapshot that cannot be used."""


def snapshot_name(host, when):
    """File name of a snapshot of ``host`` taken at ``when`` (aware datetime)."""
    return "etcd-%s-%s.db" % (host, when.astimezone(datetime.timezone.utc).strftime(STAMP_FORMAT))


def parse_name(name):
    """(host, UTC datetime) of a snapshot file name, or None for other files."""
    match = NAME_RE.match(name)
    if not match:
        return None
    when = datetime.datetime.strptime(match.group("stamp"), STAMP_FORMAT).replace(tzinfo=datetime.timezone.utc)
    return match.group("host"), when


def parse_status(text):
    """Read ``etcdutl snapshot status -w json`` output into our field names."""
    try:
        data = json.loads((text or "").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SnapshotError("etcdutl snapshot status printed no JSON: %r" % (text or "")[-200:])
    missing = [key for key in ("hash", "revision", "totalKey", "totalSize") if key not in data]
    if missing:
        raise SnapshotError("etcdutl snapshot status lacks %s" % ", ".join(missing))
    return {
        "hash": data["hash"],
        "revision": data["revision"],
        "total_keys": data["totalKey"],
        "total_size": data["totalSize"],
        "version": data.get("version"),
    }


def check_trailer(path):
    """Check the SHA-256 trailer etcd appends to a snapshot.

    Returns True when it matches, None when the file has no trailer (a copy
    of a data directory's db file); raises SnapshotError when it does not
    match, which is what etcdutl snapshot restore would refuse.
    """
    size = os.path.getsize(path)
    if size % 512 != TRAILER:
        return None
    digest = hashlib.sha256()
    remaining = size - TRAILER
    with open(path, "rb") as handle:
        while remaining:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise SnapshotError("%s is shorter than its size" % path)
            digest.update(chunk)
            remaining -= len(chunk)
        trailer = handle.read(TRAILER)
    if digest.digest() != trailer:
        raise SnapshotError("its SHA-256 integrity trailer does not match its content (the file is damaged)")
    return True


def file_sha256(path):
    """Hex SHA-256 of a whole file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_sidecar(path):
    """The hex digest in ``<path>.sha256`` (sha256sum format), or None."""
    try:
        with open(path + ".sha256", encoding="utf-8") as handle:
            words = handle.read().split()
    except OSError:
        return None
    return words[0].lower() if words else None


def list_snapshots(directory):
    """Snapshot files in ``directory``, oldest first: dicts with name, path, host, time, size."""
    found = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return found
    for name in names:
        parsed = parse_name(name)
        path = os.path.join(directory, name)
        if parsed is None or not os.path.isfile(path):
            continue
        found.append({
            "name": name,
            "path": path,
            "host": parsed[0],
            "time": parsed[1],
            "size": os.path.getsize(path),
        })
    return sorted(found, key=lambda s: (s["time"], s["name"]))


def select_prune(snapshots, now, retention_seconds=None, keep=None, protect=()):
    """Snapshots (from list_snapshots, oldest first) to delete.

    A snapshot goes when it is older than ``retention_seconds`` or when more
    than ``keep`` newer ones exist. The newest snapshot and the paths in
    ``protect`` always stay, so that pruning never leaves nothing.
    """
    if not snapshots:
        return []
    newest = snapshots[-1]["path"]
    doomed = []
    for index, snap in enumerate(snapshots):
        if snap["path"] == newest or snap["path"] in protect:
            continue
        newer = len(snapshots) - index - 1
        too_old = retention_seconds is not None and (now - snap["time"]).total_seconds() > retention_seconds
        too_many = keep is not None and keep > 0 and newer >= keep
        if too_old or too_many:
            doomed.append(snap)
    return doomed
