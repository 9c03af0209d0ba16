"""module_utils.kubernetes_version: format, supported range and upgrade skew."""
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils import kubernetes_version as kv

TABLE = yaml.safe_load((pathlib.Path(__file__).parent / "fixtures" / "validation" / "versions.yml").read_text())


@pytest.mark.parametrize("row", TABLE["parse"], ids=lambda row: row["text"])
def test_parse(row):
    assert kv.parse_version(row["text"]) == tuple(row["parsed"])


@pytest.mark.parametrize("text", TABLE["malformed"] + [1.36, None], ids=repr)
def test_malformed(text):
    with pytest.raises(kv.VersionError):
        kv.parse_version(text)


@pytest.mark.parametrize("row", TABLE["supported"], ids=lambda row: row["version"])
def test_supported_range(row):
    assert kv.is_supported(kv.parse_version(row["version"])) is row["supported"]


@pytest.mark.parametrize("row", TABLE["skew"], ids=lambda row: "%s->%s" % (row["current"], row["target"]))
def test_skew(row):
    assert kv.skew_problem(kv.parse_version(row["current"]), kv.parse_version(row["target"])) == row["problem"]


def test_range_text_comes_from_the_one_constant():
    assert kv.supported_range_text() == "%d.%d.%d to %d.%d.x" % (
        kv.SUPPORTED_KUBERNETES["minimum"] + kv.SUPPORTED_KUBERNETES["maximum_minor"])
    assert kv.supported_range_text() == "1.35.0 to 1.36.x"


def test_every_supported_minor_has_its_etcd_release():
    low, high = kv.SUPPORTED_KUBERNETES["minimum"][:2], kv.SUPPORTED_KUBERNETES["maximum_minor"]
    minors = [(low[0], minor) for minor in range(low[1], high[1] + 1)]
    assert sorted(kv.KUBEADM_ETCD) == minors


@pytest.mark.parametrize("version,etcd", [
    ("1.35.0", "3.6.6"),
    ("1.36.2", "3.6.8"),
    ("1.36", "3.6.8"),
    ("1.36.0-rc.1", "3.6.8"),
    ("1.34.9", None),
    ("v1.36.2", None),
    ("", None),
    ("1", None),
    (None, None),
    (1.36, None),
])
def test_kubeadm_etcd_version(version, etcd):
    assert kv.kubeadm_etcd_version(version) == etcd
