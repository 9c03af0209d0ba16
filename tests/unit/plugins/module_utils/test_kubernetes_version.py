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
