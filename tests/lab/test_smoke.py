"""Smoke test of a running lab (tools/lab.sh up, docs/lab.md).

Checks what the collection relies on when it runs against the lab:

* every node answers over SSH as root with the lab key, under its inventory
  name, and presents a host key of its own (no two nodes share one);
* from a node, the lab registry serves the pause image by digest;
* from a node, the files mirror returns every file of the artifact manifest
  with the sha256 the manifest records.

When the lab is not up the tests are skipped, unless ND_LAB_REQUIRED is set:
then they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = Path(os.environ.get("LAB_INVENTORY", ROOT / "inventories" / "lab"))
CACHE = Path(os.environ.get("ND_LAB_CACHE", "/var/cache/normaldance-lab"))
SSH_DIR = ROOT / "lab" / ".state" / "ssh"
MIRROR_NAME = "nd-mirror"
MIRROR_IP = "10.210.0.5"
REGISTRY = f"{MIRROR_IP}:5000"
FILES_URL = f"http://{MIRROR_IP}:8080"
MANIFEST_TYPES = ",".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def _ansible_inventory() -> str:
    venv = ROOT / ".venv" / "bin" / "ansible-inventory"
    return str(venv) if venv.exists() else "ansible-inventory"


def lab_nodes() -> dict[str, str]:
    """Inventory name -> address of every lab node."""
    out = subprocess.run([_ansible_inventory(), "-i", str(INVENTORY), "--list"],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    hostvars = json.loads(out)["_meta"]["hostvars"]
    return {name: vars_["ansible_host"] for name, vars_ in sorted(hostvars.items())
            if name != MIRROR_NAME}


def _running(name: str) -> bool:
    """Whether the lab container `name` runs (asked to podman: while the lab
    is down its addresses belong to nobody and must not be contacted)."""
    out = subprocess.run(["podman", "container", "inspect", "--format",
                          "{{.State.Running}} {{index .Config.Labels \"normaldance.lab\"}}", name],
                         capture_output=True, text=True, check=False)
    return out.returncode == 0 and out.stdout.split() == ["true", "1"]


def _ssh_banner(host: str) -> bool:
    try:
        with socket.create_connection((host, 22), timeout=5) as conn:
            return conn.recv(64).startswith(b"SSH-")
    except OSError:
        return False


@pytest.fixture(scope="module")
def nodes() -> dict[str, str]:
    found = lab_nodes()
    down = [name for name in [MIRROR_NAME, *found] if not _running(name)]
    down += [f"sshd of {name} ({ip})" for name, ip in found.items()
             if name not in down and not _ssh_banner(ip)]
    if down:
        reason = "the lab is not up (run `make lab`): not running: " + ", ".join(down)
        if os.environ.get("ND_LAB_REQUIRED"):
            pytest.fail(reason + "; ND_LAB_REQUIRED is set")
        pytest.skip(reason)
    return found


def ssh(ip: str, command: str, **kwargs) -> subprocess.CompletedProcess:
    argv = ["ssh", "-i", str(SSH_DIR / "id_ed25519"),
            "-o", f"UserKnownHostsFile={SSH_DIR / 'known_hosts'}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=10", f"root@{ip}", command]
    return subprocess.run(argv, capture_output=True, check=True, timeout=600, **kwargs)


def fingerprint(public_key_line: str) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", "-"],
                         input=public_key_line, capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def manifest() -> dict:
    path = CACHE / "manifest.json"
    if not path.exists():
        pytest.fail(f"the artifact manifest {path} does not exist: run lab/artifacts/build.py "
                    "(make lab does) before testing the mirror")
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_entries(data: dict, key: str) -> list[dict]:
    entries = list(data.get(key) or [])
    for component in (data.get("components") or {}).values():
        entries.extend(component.get(key) or [])
    return entries


def test_nodes_answer_over_ssh_with_distinct_host_keys(nodes):
    seen = {}
    for name, ip in nodes.items():
        scanned = subprocess.run(["ssh-keyscan", "-T", "10", "-t", "ed25519", ip],
                                 capture_output=True, text=True, check=True).stdout
        key_line = next(line for line in scanned.splitlines() if not line.startswith("#"))
        offered = fingerprint(key_line.split(None, 1)[1])
        result = ssh(ip, "hostname; ssh-keygen -l -E sha256 -f /etc/ssh/ssh_host_ed25519_key.pub",
                     text=True)
        hostname, key_info = result.stdout.splitlines()[:2]
        assert hostname == name, f"{ip} calls itself {hostname}, the inventory says {name}"
        assert key_info.split()[1] == offered, f"{name}: sshd offers a key it does not hold"
        seen.setdefault(offered, []).append(name)
    shared = {fp: names for fp, names in seen.items() if len(names) > 1}
    assert not shared, f"nodes share SSH host keys: {shared}"
    assert len(seen) == len(nodes)


def test_registry_serves_pause_by_digest(nodes):
    data = manifest()
    pause = [img for img in manifest_entries(data, "images")
             if img.get("name") == "pause" or "/pause:" in img.get("ref", "")]
    assert pause, "the artifact manifest lists no pause image"
    image = pause[0]
    archive = CACHE / image["archive"]
    raw = subprocess.run(["skopeo", "inspect", "--raw", f"oci-archive:{archive}"],
                         capture_output=True, check=True).stdout
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    name = image["ref"].rsplit(":", 1)[0]
    repo = name.split("/", 1)[1] if "." in name.split("/", 1)[0] else name
    ip = next(iter(nodes.values()))
    url = f"http://{REGISTRY}/v2/{repo}/manifests/{digest}"
    try:
        body = ssh(ip, f"curl -fsS -H {shlex.quote('Accept: ' + MANIFEST_TYPES)} {shlex.quote(url)}").stdout
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"the lab registry does not serve {image['ref']} ({archive.name}) by digest {digest}: "
                    f"{exc.stderr.decode(errors='replace').strip()} (was the archive rebuilt after "
                    "`make lab` loaded the registry? `make lab` loads it again)")
    assert "sha256:" + hashlib.sha256(body).hexdigest() == digest, \
        f"{url} returned a manifest with another digest"
    assert json.loads(body).get("schemaVersion") == 2


def test_files_mirror_returns_every_file_with_its_checksum(nodes):
    files = [f for f in manifest_entries(manifest(), "files") if f.get("sha256")]
    assert files, "the artifact manifest lists no files"
    ip = next(iter(nodes.values()))
    wrong = []
    for entry in files:
        rel = entry["path"].removeprefix("files/")
        url = f"{FILES_URL}/{rel}"
        out = ssh(ip, f"curl -fsS {shlex.quote(url)} | sha256sum", text=True).stdout.split()[0]
        if out != entry["sha256"]:
            wrong.append(f"{url}: {out} != {entry['sha256']}")
    assert not wrong, "files mirror checksums differ:\n" + "\n".join(wrong)
