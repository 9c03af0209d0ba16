"""Remove the Kubernetes iptables chains and nftables tables from a node.

Run by the cluster_reset role with ``ansible.builtin.script``. Only chains
whose name starts with one of the given prefixes are removed, together with
every rule in them or jumping to them; the rest of each table (the host's own
firewall) is written back unchanged. Prints one JSON object:
{"changed": bool, "removed_chains": [...], "removed_rules": int, "removed_tables": [...]}.
With --check nothing is changed and the same report is printed.
"""
import argparse
import json
import shutil
import subprocess
import sys


def run(argv, data=None):
    return subprocess.run(argv, input=data, capture_output=True, text=True, check=True).stdout


def filter_tables(dump, prefixes):
    """Return (new dump of the touched tables, removed chains, removed rule count)."""
    def doomed(name):
        return any(name.startswith(p) for p in prefixes)

    tables, current = [], None
    for line in dump.splitlines():
        if line.startswith("*"):
            current = {"name": line[1:], "lines": [line], "touched": False}
            tables.append(current)
        elif current is not None:
            current["lines"].append(line)

    removed_chains, removed_rules, out = [], 0, []
    for table in tables:
        kept = []
        for line in table["lines"]:
            words = line.split()
            if line.startswith(":") and doomed(words[0][1:]):
                removed_chains.append(f"{table['name']}/{words[0][1:]}")
                table["touched"] = True
                continue
            if line.startswith("-A "):
                targets = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-j", "-g", "--jump", "--goto")]
                if doomed(words[1]) or any(doomed(t) for t in targets):
                    removed_rules += 1
                    table["touched"] = True
                    continue
            kept.append(line)
        if table["touched"]:
            out.extend(kept)
    return ("\n".join(out) + "\n") if out else "", removed_chains, removed_rules


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--prefixes", nargs="*", default=[])
    parser.add_argument("--nft-tables", nargs="*", default=[])
    args = parser.parse_args()
    report = {"changed": False, "removed_chains": [], "removed_rules": 0, "removed_tables": []}

    for save, restore in (("iptables-save", "iptables-restore"), ("ip6tables-save", "ip6tables-restore")):
        if not (shutil.which(save) and shutil.which(restore)) or not args.prefixes:
            continue
        new, chains, rules = filter_tables(run([save]), tuple(args.prefixes))
        if chains or rules:
            report["removed_chains"] += [f"{save.split('-', maxsplit=1)[0]}:{c}" for c in chains]
            report["removed_rules"] += rules
            report["changed"] = True
            if not args.check:
                run([restore], new)

    if shutil.which("nft") and args.nft_tables:
        present = {" ".join(line.split()[1:3]) for line in run(["nft", "list", "tables"]).splitlines()
                   if line.startswith("table ")}
        for table in args.nft_tables:
            if table in present:
                report["removed_tables"].append(table)
                report["changed"] = True
                if not args.check:
                    run(["nft", "delete", "table"] + table.split())

    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
