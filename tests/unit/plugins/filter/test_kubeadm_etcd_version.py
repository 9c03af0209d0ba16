"""filter kubeadm_etcd_version: the etcd release a role installs, or '' when unknown."""
import pytest

from ansible_collections.normaldance.platform.plugins.filter.kubeadm_etcd_version import FilterModule

FILTER = FilterModule().filters()["kubeadm_etcd_version"]


@pytest.mark.parametrize("version,etcd", [("1.36.2", "3.6.8"), ("1.35.4", "3.6.6"), ("1.40.0", ""), ("", "")])
def test_filter(version, etcd):
    assert FILTER(version) == etcd
