"""Unit tests of lab/artifacts/build.py's pure helpers (no network, no root).

Run with: python3 -m pytest lab/artifacts/tests
"""

from __future__ import annotations

import importlib
import json
import sys
import tarfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture()
def build(tmp_path, monkeypatch):
    """The builder module with its cache in a temporary directory."""
    monkeypatch.setenv("ND_LAB_CACHE", str(tmp_path / "cache"))
    sys.path.insert(0, str(HERE.parent))
    try:
        module = importlib.import_module("build")
        module = importlib.reload(module)
        for directory in (module.FILES, module.WORK):
            directory.mkdir(parents=True, exist_ok=True)
        yield module
    finally:
        sys.path.remove(str(HERE.parent))


KUBERNETES_GOMOD = """module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tgithub.com/spf13/cobra v1.10.0
\tk8s.io/api v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go // comment
)
"""

ETCD_GOMOD = """module go.etcd.io/etcd/etcdctl/v3

go 1.24.0

toolchain go1.24.13

replace (
\tgo.etcd.io/etcd/api/v3 => ../api
\tgo.etcd.io/etcd/client/v3 => ../client/v3
)

// Bad imports are sometimes causing attempts to pull that code.
replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY

replace github.com/old/thing v1.0.0 => github.com/new/thing v1.2.3
"""


def test_translate_kubernetes_staging_modules(build):
    text = build.translate_gomod(KUBERNETES_GOMOD, "kubernetes-v1.36.5", "k8s.io/kubernetes",
                                 "v1.36.5", "v0.36.5")
    lines = text.splitlines()
    assert lines[0] == "module normaldance.lab/build/kubernetes-v1.36.5"
    assert "go 1.26.0" in lines
    assert "godebug default=go1.26" in lines
    assert "require k8s.io/kubernetes v1.36.5" in lines
    assert "\tk8s.io/api => k8s.io/api v0.36.5" in lines
    assert "\tk8s.io/client-go => k8s.io/client-go v0.36.5" in lines
    assert "cobra" not in text  # requirements come from the module itself


def test_translate_etcd_relative_forbidden_and_versioned(build):
    text = build.translate_gomod(ETCD_GOMOD, "etcd-etcdctl", "go.etcd.io/etcd/etcdctl/v3", "v3.6.8", None)
    lines = text.splitlines()
    assert "\tgo.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.8" in lines
    assert "\tgo.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 v3.6.8" in lines
    assert "\tgithub.com/old/thing v1.0.0 => github.com/new/thing v1.2.3" in lines
    assert "FORBIDDEN" not in text
    assert "toolchain" not in text


def test_translate_without_replacements(build):
    text = build.translate_gomod("module example.com/x\n\ngo 1.25.0\n", "x", "example.com/x", "v1.0.0", None)
    assert "replace" not in text
    assert "require example.com/x v1.0.0" in text


def test_is_static_elf(build, tmp_path):
    not_elf = tmp_path / "script"
    not_elf.write_text("#!/bin/sh\n", encoding="utf-8")
    assert build.is_static_elf(not_elf) is False
    # The Python interpreter running the tests is dynamically linked.
    assert build.is_static_elf(Path(sys.executable).resolve()) is False


def test_publish_writes_bare_hex_digest(build, tmp_path):
    src = tmp_path / "tool"
    src.write_bytes(b"hello\n")
    entry = build.publish(src, "tool/v1/tool")
    dest = build.FILES / "tool/v1/tool"
    assert dest.read_bytes() == b"hello\n"
    digest = (build.FILES / "tool/v1/tool.sha256").read_text(encoding="utf-8")
    assert digest == entry["sha256"] + "\n"
    assert len(entry["sha256"]) == 64 and "static" not in entry


def test_publish_tarball_is_reproducible(build, tmp_path):
    a = tmp_path / "a"
    a.write_bytes(b"A" * 100)
    b = tmp_path / "b"
    b.write_bytes(b"B" * 10)
    first = build.publish_tarball([(b, "pkg/bin/b"), (a, "pkg/bin/a")], "t/v1/t.tar.gz", 1700000000)
    a.touch()  # file times must not matter
    second = build.publish_tarball([(a, "pkg/bin/a"), (b, "pkg/bin/b")], "t/v1/t.tar.gz", 1700000000)
    assert first["sha256"] == second["sha256"]
    with tarfile.open(build.FILES / "t/v1/t.tar.gz") as tar:
        names = tar.getnames()
        assert names == ["pkg", "pkg/bin", "pkg/bin/a", "pkg/bin/b"]
        assert all(m.uid == 0 and m.mtime == 1700000000 for m in tar.getmembers())


def test_replace_exact_refuses_unexpected_count(build, tmp_path):
    target = tmp_path / "x.go"
    target.write_text("a := 1\na := 1\n", encoding="utf-8")
    with pytest.raises(build.BuildError):
        build.replace_exact(target, "a := 1", "b := 2", 1)
    build.replace_exact(target, "a := 1", "b := 2", 2)
    assert target.read_text(encoding="utf-8") == "b := 2\nb := 2\n"


def test_versions_file_names_every_component(build):
    cfg = build.load_versions()
    names = [c["name"] for c in build.components(cfg)]
    assert names[0] == "kubernetes-v1.36" and names[-1] == "kubernetes-v1.35"
    for name in ("pause", "crictl", "cni-plugins", "etcd", "coredns", "flannel", "kube-network-policies",
                 "containerd", "echo", "seaweedfs", "local-path-provisioner", "metrics-server", "traefik",
                 "keepalived", "keda"):
        assert name in names
    # Recipe keys are stable for identical inputs and differ between components.
    table = build.components(cfg)
    keys = {c["name"]: build.recipe_key(c, "go-test") for c in table}
    again = {c["name"]: build.recipe_key(c, "go-test") for c in build.components(cfg)}
    assert keys == again
    assert len(set(keys.values())) == len(keys)
    json.dumps(keys)


def test_platform_components_use_the_addon_repository(build):
    cfg = build.load_versions()
    table = {c["name"]: c for c in build.components(cfg)}
    for name in ("local-path-provisioner", "metrics-server", "traefik", "keepalived", "keda"):
        assert cfg["addon_image_repository"] in table[name]["inputs"]
    # The other components' recipes do not depend on it: adding the
    # platform components rebuilt none of them.
    for name in ("pause", "etcd", "coredns", "echo", "kubernetes-v1.36"):
        assert cfg["addon_image_repository"] not in table[name]["inputs"]
