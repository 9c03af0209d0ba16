"""The iptables filter of roles/cluster_reset/files/netfilter_cleanup.py."""
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[3] / "roles" / "cluster_reset" / "files" / "netfilter_cleanup.py"
_SPEC = importlib.util.spec_from_file_location("netfilter_cleanup", _PATH)
netfilter_cleanup = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(netfilter_cleanup)

HOST_ONLY = """*filter
:INPUT ACCEPT [0:0]
:SSH - [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j SSH
COMMIT
"""

MIXED = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:KUBE-FORWARD - [0:0]
:FLANNEL-FWD - [0:0]
:SSH - [0:0]
-A INPUT -m comment --comment "kubernetes firewall" -j KUBE-FORWARD
-A INPUT -p tcp -m tcp --dport 22 -j SSH
-A FORWARD -g FLANNEL-FWD
-A KUBE-FORWARD -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -j KUBE-SERVICES
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
COMMIT
"""


@pytest.mark.parametrize(
    "dump, chains, rules, kept, dropped",
    [
        (HOST_ONLY, [], 0, [], []),
        (MIXED, ["filter/KUBE-FORWARD", "filter/FLANNEL-FWD", "nat/KUBE-SERVICES"], 4,
         [":SSH - [0:0]", "-A INPUT -p tcp -m tcp --dport 22 -j SSH", "*nat", ":PREROUTING ACCEPT [0:0]"],
         ["KUBE-", "FLANNEL-", "*mangle"]),
    ],
    ids=["host-rules-only", "kubernetes-and-host-rules"],
)
def test_filter_tables(dump, chains, rules, kept, dropped):
    new, removed_chains, removed_rules = netfilter_cleanup.filter_tables(dump, ("KUBE-", "FLANNEL-", "CNI-"))
    assert removed_chains == chains
    assert removed_rules == rules
    for line in kept:
        assert line in new.splitlines()
    for text in dropped:
        assert text not in new
    if not chains:
        assert new == ""
