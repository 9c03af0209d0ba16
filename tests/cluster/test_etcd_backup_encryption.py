"""Encrypted off-node copies of the etcd snapshots, on the lab.

The lab copies snapshots over SSH to nd-w2 (inventories/lab group_vars). This
test switches encryption of the copies on, as an operator would, through a
vars file that holds the passphrase:

1. etcd_backup.yml with cluster_etcd_backup_encrypt and a passphrase: the
   run succeeds and never prints the passphrase; the passphrase file on the
   control plane is root-only (0600);
2. the copy of the new snapshot on the target starts with openssl's salt
   header (it is not an etcd database), the target keeps it readable by its
   owner only, and it decrypts with the passphrase to exactly the snapshot
   (the SHA-256 shipped next to it); a wrong passphrase does not decrypt it;
3. etcd_backup.yml without encryption puts the lab back: the passphrase file
   is gone.

Nothing of the cluster is restored or deleted; it runs in test-cluster.
Without a lab the module is skipped, unless ND_LAB_REQUIRED is set.
"""
import os
import pathlib
import secrets

import pytest

import lablib

INVENTORY = lablib.Inventory(os.environ.get("LAB_INVENTORY", lablib.ROOT / "inventories" / "lab" / "hosts.yml"))
TARGET = "nd-w2"  # cluster_etcd_backup_target.host of the lab inventory
TARGET_PATH = "/var/backups/etcd"
PASSPHRASE_FILE = "/etc/normaldance/etcd-backup/passphrase"
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


def test_copies_are_encrypted_and_decrypt_to_the_snapshot(tmp_path):
    passphrase = secrets.token_urlsafe(24)
    varsfile = tmp_path / "backup-encryption.yml"
    varsfile.touch(mode=0o600)
    varsfile.write_text(f"cluster_etcd_backup_encrypt: true\nplatform_backup_encryption_passphrase: {passphrase}\n")

    try:
        # 1. Back up with encryption on.
        rc, out = lablib.playbook(INVENTORY.path, "etcd_backup.yml", "-e", f"@{varsfile}")
        assert rc == 0, out[-4000:]
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
    finally:
        # 3. Back to the lab's settings (copies in clear, no passphrase on the node).
        rc, out = lablib.playbook(INVENTORY.path, "etcd_backup.yml")
        assert rc == 0, out[-4000:]
    assert _run(f"test -e {PASSPHRASE_FILE}", check=False).returncode == 1, f"{PASSPHRASE_FILE} was left behind"
