"""Count the packets that leave the lab network through this host.

    egress_counter.py start --network 10.210.0.0/24 --node 10.210.0.11
    egress_counter.py report
    egress_counter.py stop

`start` installs counting rules in a chain of its own (ND_EGRESS, filter
table, jumped to first from FORWARD): every packet routed from the lab network
to an address outside it is counted, per destination, except packets to the
Debian package mirror the nodes use for apt (the host names of the first
node's apt sources, resolved here at start). `report` prints the counts and
exits 1 when anything but the mirror was reached. `stop` removes only these
rules. Nothing is sent anywhere: the rules count, they never drop.

What is not counted, and why: traffic inside the lab network (nodes, mirror,
the host as gateway) and the host's own traffic. Counted apart: the nodes'
apt traffic to the mirror, and their name lookups to the resolvers of their
/etc/resolv.conf (the site's DNS, which apt needs for the mirror's name),
except lookups that ask for an NTP pool name: those count as leaving; and
packets to the cluster's own pod and service networks (--internal), which a
node routes to its default gateway while its kube-proxy rules for a Service
address do not exist yet (seen during the bootstrap: the API Service
10.96.0.1:443). The host refuses those next, after this count: the lab's
REJECT rules at the top of FORWARD (lab_network, tasks/cluster_reject.yml)
answer TCP with a reset and anything else with an ICMP error, so they do not
go on to the host's own gateway.
"""
import argparse
import ipaddress
import json
import pathlib
import re
import socket
import subprocess
import sys

CHAIN = "ND_EGRESS"
STATE = pathlib.Path(__file__).resolve().parent.parent / "lab" / ".state" / "egress-counter.json"
SSH_DIR = STATE.parent / "ssh"


def apt_hosts(sources_text):
    """Host names of the http(s) URLs in apt sources (one-line and deb822 formats)."""
    hosts = []
    for match in re.finditer(r"\bhttps?://([^/\s:]+)", sources_text):
        if match.group(1) not in hosts:
            hosts.append(match.group(1))
    return hosts


def resolve(names):
    """IPv4 addresses of the names, sorted."""
    found = set()
    for name in names:
        try:
            for info in socket.getaddrinfo(name, None, socket.AF_INET):
                found.add(info[4][0])
        except socket.gaierror:
            pass
    return sorted(found, key=ipaddress.ip_address)


def nameservers(resolv_conf):
    """IPv4 nameserver addresses of a resolv.conf."""
    out = []
    for match in re.finditer(r"^\s*nameserver\s+(\S+)", resolv_conf, re.M):
        try:
            if ipaddress.ip_address(match.group(1)).version == 4 and match.group(1) not in out:
                out.append(match.group(1))
        except ValueError:
            pass
    return out


def rules(network, excluded, resolvers=(), internal=()):
    """The iptables rules of the chain, in order (arguments after `-A ND_EGRESS`).

    Name lookups to the nodes' own resolvers (the site's DNS) are counted
    apart, except those that ask for an NTP pool: those count as leaving.
    """
    out = [["-d", address, "-m", "comment", "--comment", "nd-excluded", "-j", "RETURN"] for address in excluded]
    # Multicast (VRRP of keepalived, 224.0.0.18) is bridged on the lab network
    # itself and never routed out.
    out.append(["-d", "224.0.0.0/4", "-m", "comment", "--comment", "nd-multicast", "-j", "RETURN"])
    for cidr in internal:
        out.append(["-d", cidr, "-m", "comment", "--comment", "nd-internal", "-j", "RETURN"])
    for address in resolvers:
        out.append(["-d", address, "-p", "udp", "--dport", "53", "-m", "string", "--algo", "bm", "--string", "ntp",
                    "-m", "comment", "--comment", "nd-ntp-lookup", "-j", "RETURN"])
        out.append(["-d", address, "-m", "comment", "--comment", "nd-dns", "-j", "RETURN"])
    out.append(["-m", "comment", "--comment", "nd-counted", "-j", "RETURN"])
    return out


# Logged (where the kernel has the LOG target) so that a report can name the
# destinations; optional, the counters decide.
LOG_RULE = ["-m", "comment", "--comment", "nd-log", "-j", "LOG", "--log-prefix", "nd-egress: ", "--log-level", "6"]


def jump(network):
    return ["FORWARD", "-s", network, "!", "-d", network, "-j", CHAIN]


def iptables(*args, check=True):
    return subprocess.run(["iptables", "-w", *args], capture_output=True, text=True, check=check)


def parse_counters(listing):
    """{'excluded': {address: packets}, 'counted': packets} from `iptables -L ND_EGRESS -v -x -n`."""
    excluded, counted, dns, internal = {}, 0, 0, 0
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 9 or not fields[0].isdigit():
            continue
        packets = int(fields[0])
        if "nd-excluded" in line:
            excluded[fields[8]] = packets
        elif "nd-ntp-lookup" in line or ("nd-counted" in line and fields[2] == "RETURN"):
            counted += packets
        elif "nd-dns" in line:
            dns += packets
        elif "nd-internal" in line:
            internal += packets
    return {"excluded": excluded, "counted": counted, "dns": dns, "internal": internal}


def node_sources(node):
    argv = ["ssh", "-i", str(SSH_DIR / "id_ed25519"), "-o", f"UserKnownHostsFile={SSH_DIR / 'known_hosts'}",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", f"root@{node}",
            "cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null; echo ====; cat /etc/resolv.conf; true"]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout


def start(args):
    stop(args, quiet=True)
    sources, _sep, resolv = node_sources(args.node).partition("====")
    hosts = apt_hosts(sources)
    excluded = resolve(hosts)
    resolvers = [a for a in nameservers(resolv) if ipaddress.ip_address(a) not in ipaddress.ip_network(args.network)]
    iptables("-N", CHAIN)
    for rule in rules(args.network, excluded, resolvers, args.internal):
        if "nd-counted" in rule:
            iptables("-A", CHAIN, *LOG_RULE, check=False)
        iptables("-A", CHAIN, *rule)
    iptables("-I", *jump(args.network)[:1], "1", *jump(args.network)[1:])
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps({"network": args.network, "mirror_hosts": hosts, "excluded": excluded,
                                 "resolvers": resolvers, "internal": args.internal}) + "\n")
    print(f"egress counter on: packets from {args.network} to outside it are counted; "
          f"apt mirror {', '.join(hosts) or '(none)'} ({', '.join(excluded) or 'unresolved'}) and name lookups "
          f"to the nodes' resolvers ({', '.join(resolvers) or 'none'}) counted apart")
    return 0


def report(_args):
    state = json.loads(STATE.read_text())
    counts = parse_counters(iptables("-L", CHAIN, "-v", "-x", "-n").stdout)
    mirror = sum(counts["excluded"].values())
    print(f"egress from {state['network']}: {counts['counted']} packet(s) to addresses outside the lab network "
          f"and the apt mirror; {mirror} packet(s) to the apt mirror ({', '.join(state['mirror_hosts'])}); "
          f"{counts['dns']} name lookup packet(s) to the nodes' resolvers ({', '.join(state['resolvers'])}), "
          "none of them for an NTP pool; "
          f"{counts['internal']} packet(s) to the cluster's own networks ({', '.join(state['internal'])}) "
          "before a node translated them")
    if counts["counted"]:
        lines = subprocess.run(["journalctl", "-k", "--no-pager", "-g", "nd-egress"], capture_output=True,
                               text=True, check=False).stdout.splitlines()
        for line in lines[-20:]:
            print("  " + line, flush=True)
        print("  (destinations: the DST= field; kernel log may be unavailable in a container host)")
        return 1
    return 0


def stop(args, quiet=False):
    network = getattr(args, "network", None)
    if network is None and STATE.exists():
        network = json.loads(STATE.read_text())["network"]
    if network:
        while iptables("-D", *jump(network), check=False).returncode == 0:
            pass
    iptables("-F", CHAIN, check=False)
    iptables("-X", CHAIN, check=False)
    if not quiet:
        print("egress counter off")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    first = sub.add_parser("start")
    first.add_argument("--network", required=True, help="the lab network, for example 10.210.0.0/24")
    first.add_argument("--node", required=True, help="address of a lab node whose apt sources name the mirror")
    first.add_argument("--internal", action="append", default=[], metavar="CIDR",
                       help="a network of the cluster itself (pod or service network): packets to it are counted "
                            "apart (a node sends to a Service address before its kube-proxy rules exist)")
    sub.add_parser("report")
    sub.add_parser("stop")
    args = parser.parse_args(argv)
    if args.command == "start":
        ipaddress.ip_network(args.network)
    return {"start": start, "report": report, "stop": stop}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
