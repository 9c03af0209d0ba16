"""netfilter_cleanup: which chains, rules and tables go, what is written back, check and diff modes.

Each case gives the output of iptables-save, ip6tables-save and nft list
tables (files under fixtures/netfilter/, None: the command is not installed)
and what the module must report, write back (fixture files) and delete.
"""
from __future__ import annotations

import pathlib

import pytest

from ansible_collections.normaldance.platform.plugins.modules import netfilter_cleanup
from ansible_collections.normaldance.platform.tests.unit.plugins.modules.kubeadm_helpers import run_module

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "netfilter"
PREFIXES = ["KUBE-", "FLANNEL-", "CNI-"]
TABLES = ["inet kube-network-policies", "ip kube-proxy", "ip6 kube-proxy"]
KUBERNETES_CHAINS = [
    "iptables:filter/FLANNEL-FWD", "iptables:filter/KUBE-FIREWALL", "iptables:filter/KUBE-FORWARD",
    "iptables:nat/CNI-HOSTPORT-DNAT", "iptables:nat/FLANNEL-POSTRTG", "ip6tables:nat/KUBE-SERVICES",
]
KUBERNETES = dict(iptables="iptables-kubernetes.txt", ip6tables="ip6tables-kubernetes.txt", nft="nft-tables-kubernetes.txt")
HOST_ONLY = dict(iptables="iptables-host-only.txt", ip6tables="iptables-host-only.txt", nft="nft-tables-host-only.txt")
# What a first run wrote back is what the second run reads.
CLEANED = dict(iptables="iptables-kubernetes.restore.txt", ip6tables="ip6tables-kubernetes.restore.txt",
               nft="nft-tables-host-only.txt")
NONE_REMOVED = dict(changed=False, removed_chains=[], removed_rules=0, removed_tables=[])

CASES = [
    dict(id="kubernetes-and-host-rules", node=KUBERNETES,
         result=dict(changed=True, removed_chains=KUBERNETES_CHAINS, removed_rules=12, removed_tables=TABLES),
         restored={"iptables-restore": "iptables-kubernetes.restore.txt",
                   "ip6tables-restore": "ip6tables-kubernetes.restore.txt"},
         deleted=TABLES),
    dict(id="check-mode-reports-the-same-and-changes-nothing", node=KUBERNETES, check_mode=True,
         result=dict(changed=True, removed_chains=KUBERNETES_CHAINS, removed_rules=12, removed_tables=TABLES),
         restored={}, deleted=[]),
    dict(id="host-rules-only", node=HOST_ONLY, result=NONE_REMOVED, restored={}, deleted=[]),
    dict(id="second-run-changes-nothing", node=CLEANED, result=NONE_REMOVED, restored={}, deleted=[]),
    dict(id="without-ip6tables", node=dict(KUBERNETES, ip6tables=None),
         result=dict(changed=True, removed_chains=KUBERNETES_CHAINS[:-1], removed_rules=10, removed_tables=TABLES),
         restored={"iptables-restore": "iptables-kubernetes.restore.txt"}, deleted=TABLES),
    dict(id="without-nft", node=dict(KUBERNETES, nft=None),
         result=dict(changed=True, removed_chains=KUBERNETES_CHAINS, removed_rules=12, removed_tables=[]),
         restored={"iptables-restore": "iptables-kubernetes.restore.txt",
                   "ip6tables-restore": "ip6tables-kubernetes.restore.txt"},
         deleted=[]),
    dict(id="only-some-tables-asked-for", node=KUBERNETES, nft_tables=["ip kube-proxy", "ip nat"], chain_prefixes=[],
         result=dict(NONE_REMOVED, changed=True, removed_tables=["ip kube-proxy"]), restored={},
         deleted=["ip kube-proxy"]),
    dict(id="nothing-asked-for", node=KUBERNETES, chain_prefixes=[], nft_tables=[], result=NONE_REMOVED,
         restored={}, deleted=[], commands=[]),
]


def fixture(name):
    return (FIXTURES / name).read_text()


def run(monkeypatch, case, diff=False):
    node = case["node"]
    installed = {"iptables-save": node["iptables"], "iptables-restore": node["iptables"],
                 "ip6tables-save": node["ip6tables"], "ip6tables-restore": node["ip6tables"], "nft": node["nft"]}
    monkeypatch.setattr(netfilter_cleanup, "find",
                        lambda module, name: "/usr/sbin/" + name if installed[name] else None)
    script = [
        (("iptables-save",), (0, fixture(node["iptables"] or "iptables-host-only.txt"), "")),
        (("ip6tables-save",), (0, fixture(node["ip6tables"] or "iptables-host-only.txt"), "")),
        (("iptables-restore",), (0, "", "")),
        (("ip6tables-restore",), (0, "", "")),
        (("nft", "list", "tables"), (0, fixture(node["nft"] or "nft-tables-host-only.txt"), "")),
        (("nft", "delete", "table"), (0, "", "")),
    ]
    args = dict(chain_prefixes=case.get("chain_prefixes", PREFIXES), nft_tables=case.get("nft_tables", TABLES))
    return run_module(monkeypatch, netfilter_cleanup.main, args, script=script,
                      check_mode=case.get("check_mode", False), diff=diff)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_cleanup(monkeypatch, case):
    result, failed, commands = run(monkeypatch, case)
    assert not failed, result
    assert {key: result[key] for key in case["result"]} == case["result"]
    assert "diff" not in result
    restored = {pathlib.Path(argv[0]).name: data for argv, data in zip(commands.calls, commands.stdin)
                if argv[0].endswith("-restore")}
    assert restored == {command: fixture(name) for command, name in case["restored"].items()}
    deleted = [" ".join(argv[3:]) for argv in commands.calls if argv[1:3] == ["delete", "table"]]
    assert deleted == case["deleted"]
    if "commands" in case:
        assert commands.calls == case["commands"]


def test_the_diff_shows_what_goes(monkeypatch):
    result, failed, _commands = run(monkeypatch, dict(node=KUBERNETES, check_mode=True), diff=True)
    assert not failed
    iptables, ip6tables, nft = result["diff"]
    assert iptables["before_header"] == "iptables-save (before)"
    assert iptables["after"] == fixture("iptables-kubernetes.restore.txt")
    before = iptables["before"].splitlines()
    assert ":KUBE-FORWARD - [0:0]" in before and "-A OUTPUT -j KUBE-FIREWALL" in before
    assert "*mangle" not in before, "a table that loses nothing is not part of the diff"
    assert set(before) - set(iptables["after"].splitlines()) == {
        line for line in fixture("iptables-kubernetes.txt").splitlines()
        if any(prefix in line for prefix in PREFIXES)
    }
    assert ip6tables["after"] == fixture("ip6tables-kubernetes.restore.txt")
    assert nft == dict(before_header="nft list tables (before)", after_header="nft list tables (after)",
                       before=fixture("nft-tables-kubernetes.txt"), after="table inet filter\n")


def test_no_diff_when_nothing_goes(monkeypatch):
    result, failed, _commands = run(monkeypatch, dict(node=CLEANED), diff=True)
    assert not failed and not result["changed"] and "diff" not in result


def test_an_empty_prefix_is_refused(monkeypatch):
    result, failed, commands = run(monkeypatch, dict(node=KUBERNETES, chain_prefixes=["KUBE-", ""]))
    assert failed and "empty prefix" in result["msg"]
    assert commands.calls == []


def test_a_failing_restore_fails_the_module(monkeypatch):
    monkeypatch.setattr(netfilter_cleanup, "find", lambda module, name: "/usr/sbin/" + name)
    script = [
        (("iptables-save",), (0, fixture("iptables-kubernetes.txt"), "")),
        (("iptables-restore",), (1, "", "iptables-restore: line 3 failed")),
    ]
    result, failed, _commands = run_module(monkeypatch, netfilter_cleanup.main,
                                           dict(chain_prefixes=PREFIXES), script=script)
    assert failed
    assert result["msg"] == "/usr/sbin/iptables-restore failed (rc 1): iptables-restore: line 3 failed"


@pytest.mark.parametrize("listing,tables", [
    ("", []),
    ("table inet filter\n", ["inet filter"]),
    ("table ip kube-proxy\ntable  ip6   kube-proxy \n", ["ip kube-proxy", "ip6 kube-proxy"]),
])
def test_present_tables(listing, tables):
    assert netfilter_cleanup.present_tables(listing) == tables
