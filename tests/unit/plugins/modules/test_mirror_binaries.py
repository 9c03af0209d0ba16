"""mirror_binaries: install, no-op rerun, check mode, a corrupt copy replaced, a bad mirror digest refused."""
from __future__ import annotations

import hashlib
import io
import os

import pytest

from ansible_collections.normaldance.platform.plugins.modules import mirror_binaries
from ansible_collections.normaldance.platform.tests.unit.plugins.modules.kubeadm_helpers import run_module

BASE = "http://mirror.test/v1"
FILES = {"kubeadm": b"kubeadm-binary" * 1000, "kubelet": b"kubelet-binary" * 3000}


def sha(data):
    return hashlib.sha256(data).hexdigest()


class FakeMirror:
    """open_url stand-in serving FILES and their .sha256; records the URLs asked for."""

    def __init__(self, files, digests=None, failures=0):
        self.files = files
        self.digests = digests or {}
        self.failures = failures
        self.asked = []

    def __call__(self, url, **_kwargs):
        self.asked.append(url)
        if self.failures:
            self.failures -= 1
            raise OSError("connection reset")
        name = url.rsplit("/", 1)[1]
        if name.endswith(".sha256"):
            binary = name[: -len(".sha256")]
            return io.BytesIO(("%s  %s\n" % (self.digests.get(binary, sha(self.files[binary])), binary)).encode())
        return io.BytesIO(self.files[name])


@pytest.fixture
def layout(tmp_path, monkeypatch):
    monkeypatch.setattr(mirror_binaries.time, "sleep", lambda _s: None)
    return dict(base_url=BASE, names=["kubeadm", "kubelet"], dest_dir=str(tmp_path / "bin"),
                versioned_dir=str(tmp_path / "lib" / "v1"))


def run(monkeypatch, args, mirror, **kwargs):
    """(result, failed) of the module against ``mirror``."""
    monkeypatch.setattr(mirror_binaries, "open_url", mirror)
    monkeypatch.setattr(mirror_binaries.Installer.__init__, "__defaults__", (mirror,))
    result, failed, _commands = run_module(monkeypatch, mirror_binaries.main, args, **kwargs)
    return result, failed


def test_installs_then_changes_nothing(monkeypatch, layout):
    result, failed = run(monkeypatch, layout, FakeMirror(FILES), diff=True)
    assert not failed and result["changed"]
    for name, data in FILES.items():
        link = os.path.join(layout["dest_dir"], name)
        assert os.readlink(link) == os.path.join(layout["versioned_dir"], name)
        assert open(link, "rb").read() == data
        assert os.stat(link).st_mode & 0o777 == 0o755
    assert "kubelet" in result["diff"]["after"]
    mirror = FakeMirror(FILES)
    result, failed = run(monkeypatch, layout, mirror)
    assert not failed and not result["changed"]
    assert all(url.endswith(".sha256") for url in mirror.asked), "a rerun downloaded a binary"


def test_check_mode_predicts_and_touches_nothing(monkeypatch, layout):
    result, failed = run(monkeypatch, layout, FakeMirror(FILES), check_mode=True)
    assert not failed and result["changed"]
    assert [b["downloaded"] for b in result["binaries"]] == [True, True]
    assert not os.path.exists(layout["dest_dir"]) and not os.path.exists(layout["versioned_dir"])


def test_a_corrupt_copy_is_downloaded_again(monkeypatch, layout):
    run(monkeypatch, layout, FakeMirror(FILES))
    with open(os.path.join(layout["versioned_dir"], "kubelet"), "ab") as handle:
        handle.write(b"tampered")
    result, failed = run(monkeypatch, layout, FakeMirror(FILES))
    assert not failed and result["changed"]
    assert [b["downloaded"] for b in result["binaries"]] == [False, True]
    assert open(os.path.join(layout["dest_dir"], "kubelet"), "rb").read() == FILES["kubelet"]


def test_a_download_that_does_not_match_the_mirror_digest_is_not_installed(monkeypatch, layout):
    mirror = FakeMirror(FILES, digests={"kubelet": "0" * 64})
    result, failed = run(monkeypatch, layout, mirror)
    assert failed
    assert "kubelet has SHA-256" in result["msg"] and "not installed" in result["msg"]
    assert not os.path.exists(os.path.join(layout["versioned_dir"], "kubelet"))
    assert os.listdir(layout["versioned_dir"]) == ["kubeadm"], "a temporary file was left behind"


def test_transient_errors_are_retried(monkeypatch, layout):
    result, failed = run(monkeypatch, dict(layout, retries=3), FakeMirror(FILES, failures=2))
    assert not failed and result["changed"]


def test_a_version_change_moves_the_link_and_keeps_the_old_copy(monkeypatch, layout, tmp_path):
    run(monkeypatch, layout, FakeMirror(FILES))
    newer = dict(layout, versioned_dir=str(tmp_path / "lib" / "v2"))
    result, failed = run(monkeypatch, newer, FakeMirror(FILES))
    assert not failed and result["changed"]
    assert os.readlink(os.path.join(layout["dest_dir"], "kubeadm")) == os.path.join(newer["versioned_dir"], "kubeadm")
    assert os.path.exists(os.path.join(layout["versioned_dir"], "kubeadm"))


def test_explicit_entries_and_inline_checksums(monkeypatch, tmp_path):
    args = dict(binaries=[dict(url=BASE + "/kubeadm", dest=str(tmp_path / "bin" / "kubeadm"),
                               versioned_dir=str(tmp_path / "lib"), checksum="sha256:" + sha(FILES["kubeadm"]))])
    mirror = FakeMirror(FILES)
    result, failed = run(monkeypatch, args, mirror)
    assert not failed and result["changed"]
    assert mirror.asked == [BASE + "/kubeadm"]


@pytest.mark.parametrize("checksum", ["md5:abc", "sha256:", "sha1:" + "0" * 40])
def test_bad_checksum_forms_are_refused(monkeypatch, tmp_path, checksum):
    args = dict(binaries=[dict(url=BASE + "/kubeadm", dest=str(tmp_path / "k"), versioned_dir=str(tmp_path / "l"),
                               checksum=checksum)])
    result, failed = run(monkeypatch, args, FakeMirror(FILES))
    assert failed and "is not 'sha256:<hex>'" in result["msg"]
