"""Off-node copies of the etcd snapshots on the lab: encrypted, over SSH and to S3.

The lab copies snapshots over SSH to nd-w2 (inventories/lab group_vars). These
tests switch on what an operator would, through vars files:

1. encryption of the copies (a vars file holds the passphrase):
   etcd_backup.yml succeeds and never prints the passphrase; the passphrase
   file on the control plane is root-only (0600); the copy on nd-w2 starts
   with openssl's salt header, is readable by its owner only, and decrypts
   with the passphrase to exactly the snapshot (the SHA-256 shipped next to
   it); a wrong passphrase does not decrypt it;
2. the S3 target: the lab's object store (SeaweedFS on nd-s3, keys generated
   by the lab into lab/.state/s3/backup-target.yml), encryption on: the run
   never prints the keys or the passphrase, the keys on the node are in a
   root-only file, the new snapshot is in the bucket under
   etcd/<control plane>/ and decrypts to its SHA-256; a copy older than the
   target retention is deleted from the bucket by the next run of the
   node's backup script, the newest stays; a bad bucket name is refused by
   the role's preflight with a message that names the variable, before any
   change;
3. at the end etcd_backup.yml with the inventory's own settings puts the
   lab back (SSH target, copies in clear): the passphrase and S3 key files
   are gone from the node.

Nothing of the cluster is restored or deleted; it runs in test-cluster.
Without a lab the module is skipped, unless ND_LAB_REQUIRED is set.
"""
import hashlib
import os
import pathlib
import secrets
import subprocess

import pytest
import yaml

import lablib

INVENTORY = lablib.Inventory(os.environ.get("LAB_INVENTORY", lablib.ROOT / "inventories" / "lab" / "hosts.yml"))
TARGET = "nd-w2"  # cluster_etcd_backup_target.host of the lab inventory
TARGET_PATH = "/var/backups/etcd"
PASSPHRASE_FILE = "/etc/normaldance/etcd-backup/passphrase"
S3_KEYS_FILE = "/etc/normaldance/etcd-backup/s3.curlrc"
S3_VARS = lablib.ROOT / "lab" / ".state" / "s3" / "backup-target.yml"
OPENSSL = "openssl enc -d -aes-256-cbc -pbkdf2 -iter 200000"

PROBLEM = lablib.lab_problem(INVENTORY)
if PROBLEM:
    if os.environ.get("ND_LAB_REQUIRED"):
        raise RuntimeError(f"ND_LAB_REQUIRED is set but {PROBLEM}")
    pytest.skip(PROBLEM, allow_module_level=True)

CONTROL_PLANE = INVENTORY.hosts("control_plane")[0]


def _run(command, host=CONTROL_PLANE, **kwargs):
    return lablib.ssh(INVENTORY.addresses[host], command, **kwargs)


def _newest_snapshot():
    out = _run("ls -1t /var/lib/etcd-backup/etcd-*.db | head -1").stdout.strip()
    assert out, f"no snapshot in /var/lib/etcd-backup on {CONTROL_PLANE}"
    return pathlib.PurePosixPath(out).name


@pytest.fixture(scope="module", autouse=True)
def lab_settings_restored():
    """After the tests: etcd_backup.yml with the inventory's settings only."""
    yield
    rc, out = lablib.playbook(INVENTORY.path, "etcd_backup.yml")
    assert rc == 0, lablib.excerpt(out)
    for path in (PASSPHRASE_FILE, S3_KEYS_FILE):
        assert _run(f"test -e {path}", check=False).returncode == 1, f"{path} was left behind on {CONTROL_PLANE}"


def _encryption_vars(tmp_path):
    passphrase = secrets.token_urlsafe(24)
    varsfile = tmp_path / "backup-encryption.yml"
    varsfile.touch(mode=0o600)
    varsfile.write_text(f"cluster_etcd_backup_encrypt: true\nplatform_backup_encryption_passphrase: {passphrase}\n")
    return passphrase, varsfile


def test_copies_are_encrypted_and_decrypt_to_the_snapshot(tmp_path):
    passphrase, varsfile = _encryption_vars(tmp_path)
    # 1. Back up with encryption on.
    rc, out = lablib.playbook(INVENTORY.path, "etcd_backup.yml", "-e", f"@{varsfile}")
    assert rc == 0, lablib.excerpt(out)
    assert passphrase not in out, "etcd_backup.yml printed the passphrase"
    mode = _run(f"stat -c '%a %U' {PASSPHRASE_FILE}").stdout.split()
    assert mode == ["600", "root"], f"{PASSPHRASE_FILE} on {CONTROL_PLANE} is {mode}"

    # 2. The copy on the target is encrypted and decrypts to the snapshot.
    snapshot = _newest_snapshot()
    remote = f"{TARGET_PATH}/{CONTROL_PLANE}/{snapshot}"
    listing = _run(f"ls -1 {TARGET_PATH}/{CONTROL_PLANE}/", host=TARGET).stdout.split()
    assert f"{snapshot}.enc" in listing, f"{snapshot}.enc not on {TARGET}: {listing}"
    header = _run(f"head -c 8 {remote}.enc", host=TARGET).stdout
    assert header == "Salted__", f"the copy on {TARGET} does not look encrypted (starts with {header!r})"
    perms = _run(f"stat -c '%a' {remote}.enc", host=TARGET).stdout.strip()
    assert perms in ("600", "400"), f"{remote}.enc on {TARGET} has mode {perms}"

    expected = _run(f"cat {remote}.sha256", host=TARGET).stdout.split()[0]
    # The passphrase goes through stdin into a root-only file, never on a command line.
    _run("umask 077 && cat > /run/nd-test-passphrase", host=TARGET, stdin=passphrase)
    try:
        good = _run(f"{OPENSSL} -pass file:/run/nd-test-passphrase -in {remote}.enc | sha256sum",
                    host=TARGET).stdout.split()[0]
        _run("umask 077 && cat > /run/nd-test-passphrase", host=TARGET, stdin=passphrase + "-wrong")
        wrong = _run(f"{OPENSSL} -pass file:/run/nd-test-passphrase -in {remote}.enc | sha256sum; "
                     "echo rc=${PIPESTATUS[0]}", host=TARGET).stdout
    finally:
        _run("rm -f /run/nd-test-passphrase", host=TARGET, check=False)
    assert good == expected, f"the copy decrypts to {good}, the snapshot's SHA-256 is {expected}"
    assert "rc=0" not in wrong or expected not in wrong, "a wrong passphrase decrypted the copy"


class S3:
    """The lab's object store, reached the way the node script does (curl,
    Signature Version 4), with the keys in a root-only curl config file."""

    def __init__(self, target, workdir):
        self.target = target
        self.config = workdir / "s3.curlrc"
        self.config.touch(mode=0o600)
        self.config.write_text(f'user = "{target["access_key"]}:{target["secret_key"]}"\n')
        self.base = f"{target['endpoint']}/{target['bucket']}"

    def _curl(self, *args, url):
        argv = ["curl", "--silent", "--show-error", "--fail", "--config", str(self.config),
                "--aws-sigv4", f"aws:amz:{self.target['region']}:s3", *args, url]
        return subprocess.run(argv, capture_output=True, check=True, timeout=120)

    def keys(self, prefix):
        # Signature Version 4 wants upper-case percent-encoding (curl 7.88 writes lower case).
        body = self._curl(url=f"{self.base}/?list-type=2&prefix={prefix.replace('/', '%2F')}").stdout.decode()
        return [part.split("</Key>")[0] for part in body.split("<Key>")[1:]]

    def get(self, key):
        return self._curl(url=f"{self.base}/{key}").stdout

    def put(self, key, data, workdir):
        src = workdir / "upload"
        src.write_bytes(data)
        self._curl("--upload-file", str(src), "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", url=f"{self.base}/{key}")


def test_s3_target_receives_encrypted_copies_and_prunes_them(tmp_path):
    assert S3_VARS.exists(), f"{S3_VARS} missing: the lab writes it when it starts its object store (make lab)"
    target = yaml.safe_load(S3_VARS.read_text())["cluster_etcd_backup_target"]
    passphrase, encryption = _encryption_vars(tmp_path)
    secrets_seen = [passphrase, target["secret_key"], target["access_key"]]
    s3 = S3(target, tmp_path)
    folder = f"{target['prefix']}{CONTROL_PLANE}/"

    # A bad bucket name: refused by the preflight, naming the variable; nothing changes.
    badvars = tmp_path / "bad-target.yml"
    badvars.touch(mode=0o600)
    badvars.write_text(yaml.safe_dump({"cluster_etcd_backup_target": dict(target, bucket="Bad_Bucket")}))
    before = _run("ls -la /etc/normaldance/etcd-backup/ /var/lib/etcd-backup/").stdout
    rc, out = lablib.playbook(INVENTORY.path, "etcd_backup.yml", "-e", f"@{badvars}", "-e", f"@{encryption}")
    assert rc == 2, f"etcd_backup.yml with a bad bucket exited {rc}:\n{lablib.excerpt(out)}"
    # Refused by the validation play on the controller, before any host is contacted.
    assert "cluster_etcd_backup_target (group all): bucket 'Bad_Bucket'" in out, lablib.excerpt(out)
    assert not [s for s in secrets_seen if s in out], "the refused run printed a key or the passphrase"
    assert _run("ls -la /etc/normaldance/etcd-backup/ /var/lib/etcd-backup/").stdout == before, \
        "the refused run changed the node"

    # The S3 target with encrypted copies.
    rc, out = lablib.playbook(INVENTORY.path, "etcd_backup.yml", "-e", f"@{S3_VARS}", "-e", f"@{encryption}")
    assert rc == 0, lablib.excerpt(out)
    assert not [s for s in secrets_seen if s in out], "etcd_backup.yml printed an S3 key or the passphrase"
    assert "shipped" in out and f"s3://{target['bucket']}/{folder}" in out, lablib.excerpt(out)
    mode = _run(f"stat -c '%a %U' {S3_KEYS_FILE}").stdout.split()
    assert mode == ["600", "root"], f"{S3_KEYS_FILE} on {CONTROL_PLANE} is {mode}"

    snapshot = _newest_snapshot()
    keys = s3.keys(folder)
    print(f"\nobjects under s3://{target['bucket']}/{folder}: {keys}")
    assert f"{folder}{snapshot}.enc" in keys and f"{folder}{snapshot}.sha256" in keys, keys
    assert f"{folder}{snapshot}" not in keys, "a copy in clear went to the bucket"
    copy = s3.get(f"{folder}{snapshot}.enc")
    assert copy[:8] == b"Salted__", f"the copy in the bucket does not look encrypted (starts with {copy[:8]!r})"
    expected = s3.get(f"{folder}{snapshot}.sha256").decode().split()[0]
    (tmp_path / "copy.enc").write_bytes(copy)
    (tmp_path / "pass").touch(mode=0o600)
    (tmp_path / "pass").write_text(passphrase)
    plain = subprocess.run(OPENSSL.split() + ["-pass", f"file:{tmp_path / 'pass'}", "-in", str(tmp_path / "copy.enc")],
                           capture_output=True, check=True).stdout
    assert hashlib.sha256(plain).hexdigest() == expected, "the copy in the bucket does not decrypt to the snapshot"

    # Retention in the bucket: a copy far older than the retention goes on the
    # next run of the node's script; the newest stays.
    old = f"{folder}etcd-{CONTROL_PLANE}-20200101T000000Z.db.enc"
    s3.put(old, b"Salted__old copy", tmp_path)
    assert old in s3.keys(folder)
    ship = _run("/usr/local/sbin/nd-etcd-backup ship")
    print(ship.stdout.strip())
    keys = s3.keys(folder)
    assert old not in keys, f"{old} is still in the bucket: {keys}"
    assert f"{folder}{snapshot}.enc" in keys, f"the newest copy was pruned: {keys}"
    assert f"pruned on the target: s3://{target['bucket']}/{old}" in ship.stdout
