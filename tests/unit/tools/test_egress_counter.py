"""The pure parts of tools/egress_counter.py: apt sources, rules, counter parsing."""
import importlib.util
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("egress_counter", _ROOT / "tools" / "egress_counter.py")
egress = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(egress)

SOURCES = """deb http://mirror.example.org/debian bookworm main
deb http://mirror.example.org/debian bookworm-updates main
# deb http://commented.example.org/debian bookworm main
Types: deb
URIs: https://security.example.org/debian-security
"""

LISTING = """Chain ND_EGRESS (1 references)
    pkts      bytes target     prot opt in     out     source               destination
     120    98000 RETURN     0    --  *      *       0.0.0.0/0            192.0.2.10           /* nd-excluded */
       0        0 RETURN     0    --  *      *       0.0.0.0/0            192.0.2.11           /* nd-excluded */
       3      180 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* nd-log */ LOG flags 0 level 6 prefix "nd-egress: "
       3      180 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* nd-counted */
"""


DNS = ("       2      130 RETURN     17   --  *      *       0.0.0.0/0            10.255.255.53        "
       'udp dpt:53 STRING match  "ntp" ALGO name bm TO 65535 /* nd-ntp-lookup */\n'
       "      40     2600 RETURN     0    --  *      *       0.0.0.0/0            10.255.255.53        /* nd-dns */\n")


def test_nameservers():
    assert egress.nameservers("# x\nnameserver 10.255.255.53\nnameserver ::1\nsearch lab\n") == ["10.255.255.53"]


def test_apt_hosts_in_order_once():
    assert egress.apt_hosts(SOURCES) == ["mirror.example.org", "commented.example.org", "security.example.org"]


def test_rules_exclude_the_mirror_then_count_the_rest():
    rules = egress.rules("10.210.0.0/24", ["192.0.2.10"])
    assert rules[0][:2] == ["-d", "192.0.2.10"] and rules[0][-1] == "RETURN"
    assert rules[-1] == ["-m", "comment", "--comment", "nd-counted", "-j", "RETURN"]
    assert all("DROP" not in rule and "REJECT" not in rule for rule in rules), "the counter must never drop"


def test_jump_only_for_traffic_leaving_the_network():
    assert egress.jump("10.210.0.0/24") == ["FORWARD", "-s", "10.210.0.0/24", "!", "-d", "10.210.0.0/24",
                                            "-j", "ND_EGRESS"]


@pytest.mark.parametrize("listing,expected", [
    (LISTING, {"excluded": {"192.0.2.10": 120, "192.0.2.11": 0}, "counted": 3, "dns": 0, "internal": 0}),
    (LISTING + DNS, {"excluded": {"192.0.2.10": 120, "192.0.2.11": 0}, "counted": 5, "dns": 40, "internal": 0}),
    ("Chain ND_EGRESS (1 references)\n", {"excluded": {}, "counted": 0, "dns": 0, "internal": 0}),
])
def test_parse_counters(listing, expected):
    assert egress.parse_counters(listing) == expected


def test_internal_networks_are_counted_apart():
    rules = egress.rules("10.210.0.0/24", [], [], ["10.96.0.0/12"])
    assert ["-d", "10.96.0.0/12", "-m", "comment", "--comment", "nd-internal", "-j", "RETURN"] in rules
    listing = "       7      420 RETURN     0    --  *      *       0.0.0.0/0            10.96.0.0/12         /* nd-internal */\n"
    assert egress.parse_counters(listing)["internal"] == 7
