"""etcd_snapshot: save (verify, atomic rename, modes, prune), check mode, diff, verify and list.

etcdctl and etcdutl are scripted (kubeadm_helpers.run_module); the
snapshot files are real files in a temporary directory, built with or
without etcd's SHA-256 trailer, so that the integrity checks run for real.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import pathlib
import stat
import time

import pytest

from ansible_collections.normaldance.platform.plugins.module_utils import etcd_snapshot as snaputil
from ansible_collections.normaldance.platform.plugins.modules import etcd_snapshot
from ansible_collections.normaldance.platform.tests.unit.plugins.modules.kubeadm_helpers import run_module

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "etcd"
STATUS_OK = (0, (FIXTURES / "status-ok.json").read_text(), "")
STATUS_PANIC = (2, "", (FIXTURES / "status-panic.txt").read_text())
STATUS_INVALID = (1, "", (FIXTURES / "status-invalid.txt").read_text())


def snapshot_bytes(pages=4, trailer="good"):
    """A stand-in for a snapshot: whole 512-byte pages, then etcd's SHA-256 trailer."""
    body = bytes(range(256)) * 2 * pages
    if trailer == "good":
        return body + hashlib.sha256(body).digest()
    if trailer == "bad":
        return body + hashlib.sha256(body + b"x").digest()
    return body


def write_snapshot(directory, name, trailer="good"):
    path = pathlib.Path(directory) / name
    path.write_bytes(snapshot_bytes(trailer=trailer))
    return path


def old_name(days_ago, host="nd-cp1"):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return snaputil.snapshot_name(host, when)


def etcdctl_writes(trailer="good"):
    """etcdctl snapshot save: write a snapshot to the last argument."""
    def answer(argv):
        pathlib.Path(argv[-1]).write_bytes(snapshot_bytes(trailer=trailer))
        return 0, "Snapshot saved at %s\n" % argv[-1], ""
    return answer


def args(directory, **extra):
    lock = pathlib.Path(str(directory)).parent / "nd-etcd-backup.lock"
    base = dict(dir=str(directory), host="nd-cp1", lock_file=str(lock))
    base.update(extra)
    return base


# ---------------------------------------------------------------- helpers

NAME_CASES = [
    ("etcd-nd-cp1-20260101T000000Z.db", ("nd-cp1", datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))),
    ("etcd-a-b-c-20261231T235959Z.db", ("a-b-c", datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc))),
    ("etcd-nd-cp1-20260101T000000Z.db.sha256", None),
    (".etcd-nd-cp1-20260101T000000Z.db.part", None),
    ("etcd-20260101.db", None),
]


@pytest.mark.parametrize("name,expected", NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_parse_name(name, expected):
    assert snaputil.parse_name(name) == expected


def test_name_round_trips():
    when = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)
    assert snaputil.parse_name(snaputil.snapshot_name("cp", when)) == ("cp", when)


def _snaps(*days_ago):
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
    snaps = [{"path": "/b/%d" % d, "name": str(d), "time": now - datetime.timedelta(days=d)} for d in days_ago]
    return now, sorted(snaps, key=lambda s: s["time"])


PRUNE_CASES = [
    # id, ages in days, retention (s), keep, paths expected to go
    ("nothing-set", (5, 3, 1), None, 0, []),
    ("retention", (10, 8, 3, 1), 7 * 86400, 0, ["/b/10", "/b/8"]),
    ("keep", (4, 3, 2, 1), None, 2, ["/b/4", "/b/3"]),
    ("both-union", (10, 3, 2, 1), 7 * 86400, 3, ["/b/10"]),
    ("newest-survives-retention", (30, 20), 86400, 0, ["/b/30"]),
    ("empty", (), 86400, 1, []),
]


@pytest.mark.parametrize("case_id,ages,retention,keep,gone", PRUNE_CASES, ids=[c[0] for c in PRUNE_CASES])
def test_select_prune(case_id, ages, retention, keep, gone):
    now, snaps = _snaps(*ages)
    assert [s["path"] for s in snaputil.select_prune(snaps, now, retention, keep)] == gone


def test_parse_status_reads_etcdutl_json():
    assert snaputil.parse_status(STATUS_OK[1]) == {
        "hash": 178907201, "revision": 202, "total_keys": 201, "total_size": 106496, "version": "3.6.0"}
    with pytest.raises(snaputil.SnapshotError):
        snaputil.parse_status("")
    with pytest.raises(snaputil.SnapshotError):
        snaputil.parse_status('{"hash": 1}')


TRAILER_CASES = [("good", True), ("none", None)]


@pytest.mark.parametrize("trailer,expected", TRAILER_CASES, ids=[c[0] for c in TRAILER_CASES])
def test_check_trailer(tmp_path, trailer, expected):
    assert snaputil.check_trailer(str(write_snapshot(tmp_path, "s.db", trailer))) is expected


def test_check_trailer_refuses_a_damaged_file(tmp_path):
    with pytest.raises(snaputil.SnapshotError, match="trailer does not match"):
        snaputil.check_trailer(str(write_snapshot(tmp_path, "s.db", "bad")))


# ---------------------------------------------------------------- state=present

def test_the_backup_lock_waits_for_the_other_run_then_fails(tmp_path):
    lock = tmp_path / "run" / "nd-etcd-backup.lock"
    held = snaputil.take_lock(str(lock))
    try:
        started = time.monotonic()
        with pytest.raises(snaputil.SnapshotError, match="another etcd backup on this node has held"):
            snaputil.take_lock(str(lock), timeout=1)
        assert time.monotonic() - started >= 1
    finally:
        os.close(held)
    os.close(snaputil.take_lock(str(lock), timeout=1))


def test_save_releases_the_backup_lock(monkeypatch, tmp_path):
    directory = tmp_path / "backup"
    script = [(("etcdctl",), etcdctl_writes()), (("etcdutl", "snapshot", "status"), STATUS_OK)]
    result, failed, _commands = run_module(monkeypatch, etcd_snapshot.main, args(directory), script)
    assert not failed, result
    os.close(snaputil.take_lock(str(tmp_path / "nd-etcd-backup.lock"), timeout=1))


def test_save_writes_a_verified_private_snapshot(monkeypatch, tmp_path):
    directory = tmp_path / "backup"
    script = [
        (("etcdctl",), etcdctl_writes()),
        (("etcdutl", "snapshot", "status"), STATUS_OK),
    ]
    result, failed, commands = run_module(monkeypatch, etcd_snapshot.main, args(directory), script)
    assert not failed, result
    assert result["changed"] is True
    path = pathlib.Path(result["path"])
    assert snaputil.parse_name(path.name)[0] == "nd-cp1"
    assert path.parent == directory and path.exists()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert result["snapshot"]["revision"] == 202 and result["snapshot"]["integrity"] == "trailer"
    sidecar = (directory / (path.name + ".sha256")).read_text().split()
    assert sidecar == [hashlib.sha256(path.read_bytes()).hexdigest(), path.name]
    assert [p.name for p in directory.iterdir() if p.name.endswith(".part")] == []
    save = commands.calls[0]
    assert save[save.index("--endpoints") + 1] == "https://127.0.0.1:2379"
    assert save[-3:-1] == ["snapshot", "save"]
    assert pathlib.Path(save[-1]).name.startswith(".") and save[-1].endswith(".part")
    assert commands.calls[1][-1] == save[-1], "verified under the temporary name, before the rename"


BAD_SAVE_CASES = [
    # id, etcdctl answer, status answer, words the message must hold
    ("etcdctl-fails", (1, "", "context deadline exceeded"), STATUS_OK, ["etcdctl snapshot save failed", "deadline"]),
    ("status-panics", etcdctl_writes(), STATUS_PANIC, ["failed verification and was deleted", "Page expected"]),
    ("status-invalid", etcdctl_writes(), STATUS_INVALID, ["failed verification and was deleted", "invalid database"]),
    ("trailer-mismatch", etcdctl_writes("bad"), STATUS_OK, ["failed verification and was deleted", "trailer"]),
]


@pytest.mark.parametrize("case_id,save_answer,status_answer,words", BAD_SAVE_CASES, ids=[c[0] for c in BAD_SAVE_CASES])
def test_save_refuses_and_deletes_a_bad_snapshot(monkeypatch, tmp_path, case_id, save_answer, status_answer, words):
    keep = write_snapshot(tmp_path, old_name(1))
    script = [(("etcdctl",), save_answer), (("etcdutl", "snapshot", "status"), status_answer)]
    result, failed, _commands = run_module(monkeypatch, etcd_snapshot.main, args(tmp_path, keep=1), script)
    assert failed
    for word in words:
        assert word in result["msg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [keep.name], "nothing left behind, nothing pruned"


PRUNE_RUN_CASES = [
    # id, existing snapshot ages (days), extra args, ages expected to be pruned
    ("retention", (10, 5, 1), dict(retention="7d"), (10,)),
    ("keep", (3, 2, 1), dict(keep=2), (3, 2)),
    ("no-limits", (30, 1), dict(), ()),
]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case_id,ages,extra,pruned_ages", PRUNE_RUN_CASES, ids=[c[0] for c in PRUNE_RUN_CASES])
def test_save_prunes_old_snapshots(monkeypatch, tmp_path, case_id, ages, extra, pruned_ages, check):
    files = {age: write_snapshot(tmp_path, old_name(age)) for age in ages}
    for path in files.values():
        (tmp_path / (path.name + ".sha256")).write_text("x  %s\n" % path.name)
    before = sorted(p.name for p in tmp_path.iterdir())
    script = [(("etcdctl",), etcdctl_writes()), (("etcdutl", "snapshot", "status"), STATUS_OK)]
    result, failed, commands = run_module(monkeypatch, etcd_snapshot.main, args(tmp_path, **extra), script,
                                          check_mode=check, diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert sorted(result["pruned"]) == sorted(str(files[a]) for a in pruned_ages)
    assert result["path"] not in result["pruned"]
    assert result["diff"]["before"] == "".join(files[a].name + "\n" for a in sorted(ages, reverse=True))
    assert pathlib.Path(result["path"]).name in result["diff"]["after"]
    for age in pruned_ages:
        assert files[age].name not in result["diff"]["after"]
    if check:
        assert commands.calls == [] and result["snapshot"] is None
        assert sorted(p.name for p in tmp_path.iterdir()) == before
    else:
        left = sorted(p.name for p in tmp_path.iterdir())
        for age in pruned_ages:
            assert files[age].name not in left and files[age].name + ".sha256" not in left
        assert pathlib.Path(result["path"]).name in left


def test_check_mode_on_a_fresh_node_creates_nothing(monkeypatch, tmp_path):
    directory = tmp_path / "missing"
    result, failed, commands = run_module(monkeypatch, etcd_snapshot.main, args(directory), [], check_mode=True)
    assert not failed and result["changed"] and result["pruned"] == []
    assert not directory.exists() and commands.calls == []


@pytest.mark.parametrize("extra,words", [(dict(retention="7days"), "retention '7days'"), (dict(keep=-1), "keep")])
def test_bad_limits_are_clear_errors(monkeypatch, tmp_path, extra, words):
    result, failed, commands = run_module(monkeypatch, etcd_snapshot.main, args(tmp_path, **extra), [])
    assert failed and words in result["msg"] and commands.calls == []


# ---------------------------------------------------------------- state=verified

def _sidecar(path, digest=None):
    digest = digest or hashlib.sha256(path.read_bytes()).hexdigest()
    (path.parent / (path.name + ".sha256")).write_text("%s  %s\n" % (digest, path.name))


VERIFY_CASES = [
    # id, trailer, status answer, sidecar ("good", "bad", None), checksum arg, failed?, words
    ("good", "good", STATUS_OK, "good", None, False, []),
    ("good-without-sidecar", "good", STATUS_OK, None, None, False, []),
    ("copy-of-a-db-file", "none", STATUS_OK, None, None, False, []),
    ("damaged-bbolt", "good", STATUS_PANIC, None, None, True, ["is corrupt", "Page expected"]),
    ("not-a-database", "good", STATUS_INVALID, None, None, True, ["is corrupt", "invalid database"]),
    ("trailer-mismatch", "bad", STATUS_OK, None, None, True, ["is corrupt", "trailer does not match"]),
    ("sidecar-mismatch", "good", STATUS_OK, "bad", None, True, ["is corrupt", "expected " + "0" * 64]),
    ("checksum-arg-mismatch", "good", STATUS_OK, None, "f" * 64, True, ["expected " + "f" * 64]),
]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case_id,trailer,status_answer,sidecar,checksum,fails,words", VERIFY_CASES,
                         ids=[c[0] for c in VERIFY_CASES])
def test_verified(monkeypatch, tmp_path, case_id, trailer, status_answer, sidecar, checksum, fails, words, check):
    path = write_snapshot(tmp_path, "etcd-nd-cp1-20260101T000000Z.db", trailer)
    if sidecar:
        _sidecar(path, None if sidecar == "good" else "0" * 64)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    script = [(("etcdutl", "snapshot", "status"), status_answer)]
    result, failed, _commands = run_module(
        monkeypatch, etcd_snapshot.main,
        dict(state="verified", path=str(path), checksum=checksum), script, check_mode=check)
    assert failed is fails, result
    assert result.get("changed") in (None, False)
    for word in words:
        assert word in result["msg"]
    if fails:
        assert str(path) in result["msg"]
    else:
        assert result["snapshot"]["revision"] == 202
        assert result["snapshot"]["integrity"] == ("status" if trailer == "none" else "trailer")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before, "verifying never changes a file"


def test_verified_missing_file(monkeypatch, tmp_path):
    result, failed, commands = run_module(monkeypatch, etcd_snapshot.main,
                                          dict(state="verified", path=str(tmp_path / "nope.db")), [])
    assert failed and "no such file" in result["msg"] and commands.calls == []


def test_verified_needs_a_path(monkeypatch, tmp_path):
    result, failed, _commands = run_module(monkeypatch, etcd_snapshot.main, dict(state="verified"), [])
    assert failed and "path" in result["msg"]


# ---------------------------------------------------------------- state=listed

def test_list_reports_size_time_revision_and_validity(monkeypatch, tmp_path):
    good = write_snapshot(tmp_path, "etcd-nd-cp1-20260102T030405Z.db")
    bad = write_snapshot(tmp_path, "etcd-nd-cp2-20260101T000000Z.db")
    (tmp_path / "unrelated.txt").write_text("x")
    (tmp_path / ".etcd-nd-cp1-20260103T000000Z.db.part").write_text("x")

    def status_answer(argv):
        return STATUS_OK if argv[-1] == str(good) else STATUS_INVALID

    script = [(("etcdutl", "snapshot", "status"), status_answer)]
    result, failed, _commands = run_module(monkeypatch, etcd_snapshot.main, dict(state="listed", dir=str(tmp_path)),
                                           script, check_mode=True)
    assert not failed and result["changed"] is False
    assert result["snapshots"] == [
        dict(path=str(bad), host="nd-cp2", time="2026-01-01T00:00:00Z", size=os.path.getsize(bad),
             revision=None, valid=False),
        dict(path=str(good), host="nd-cp1", time="2026-01-02T03:04:05Z", size=os.path.getsize(good),
             revision=202, valid=True),
    ]


def test_list_of_a_missing_directory_is_empty(monkeypatch, tmp_path):
    result, failed, _commands = run_module(monkeypatch, etcd_snapshot.main,
                                           dict(state="listed", dir=str(tmp_path / "none")), [])
    assert not failed and result == dict(changed=False, snapshots=[])
