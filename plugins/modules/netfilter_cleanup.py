#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfilter_cleanup
short_description: Remove the iptables chains and nftables tables that Kubernetes left on a node, keeping the rest
version_added: 0.2.0
description:
  - Reads the IPv4 and IPv6 iptables rules with C(iptables-save) and C(ip6tables-save), removes every chain whose
    name starts with one of O(chain_prefixes), together with every rule in such a chain or jumping to it
    (C(-j), C(-g), C(--jump), C(--goto)), and writes back only the tables it changed with C(iptables-restore)
    and C(ip6tables-restore). Every other rule of those tables, such as the host's own firewall, is written back
    as it was; tables without such chains or rules are not touched.
  - Deletes the nftables tables of O(nft_tables) that exist (C(nft delete table)).
  - A family whose save or restore command is not installed, and nftables without C(nft), are skipped. A second
    run changes nothing.
  - Used by the role C(normaldance.platform.cluster_reset) after C(kubeadm reset).
author:
  - NORMALDANCE platform maintainers (@normaldance)
attributes:
  check_mode:
    support: full
    details: The rules are read as in a real run; nothing is written or deleted, and the result is what would be removed.
  diff_mode:
    support: full
    details:
      - For each iptables family, the changed tables before and after (the removed chains and rules are the
        lines missing after); for nftables, the tables present before and after.
  platform:
    platforms: posix
options:
  chain_prefixes:
    description:
      - iptables chains whose name starts with one of these are removed, with the rules that jump to them.
      - Empty leaves iptables alone. An empty prefix, which would match every chain, is refused.
    type: list
    elements: str
    default: []
  nft_tables:
    description:
      - nftables tables to delete when present, each as C(<family> <name>), for example V(ip kube-proxy).
      - Empty leaves nftables alone.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
requirements:
  - C(iptables-save) and C(iptables-restore) (and the C(ip6tables) pair) for the chains, C(nft) for the tables.
"""

EXAMPLES = r"""
- name: Remove the Kubernetes iptables chains and nftables tables
  normaldance.platform.netfilter_cleanup:
    chain_prefixes: [KUBE-, FLANNEL-, CNI-]
    nft_tables:
      - inet kube-network-policies
      - ip kube-proxy
      - ip6 kube-proxy
"""

RETURN = r"""
removed_chains:
  description: The chains removed (or, in check mode, that would be), as C(<command>:<table>/<chain>).
  returned: always
  type: list
  elements: str
  sample: [iptables:filter/KUBE-FORWARD, iptables:nat/KUBE-SERVICES, ip6tables:nat/KUBE-SERVICES]
removed_rules:
  description: How many rules were (or would be) removed, over both families.
  returned: always
  type: int
  sample: 12
removed_tables:
  description: The nftables tables deleted (or that would be).
  returned: always
  type: list
  elements: str
  sample: [ip kube-proxy]
"""

from ansible.module_utils.basic import AnsibleModule

FAMILIES = (("iptables-save", "iptables-restore"), ("ip6tables-save", "ip6tables-restore"))
JUMPS = ("-j", "-g", "--jump", "--goto")


def filter_tables(dump, prefixes):
    """Return (new dump of the touched tables, removed chains, removed rule count).

    ``dump`` is the output of iptables-save. A chain goes when its name starts
    with one of ``prefixes``; a rule goes when it belongs to such a chain or
    jumps to one. Only the tables that lose something are in the new dump.
    """
    def doomed(name):
        return any(name.startswith(prefix) for prefix in prefixes)

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
                removed_chains.append("%s/%s" % (table["name"], words[0][1:]))
                table["touched"] = True
                continue
            if line.startswith("-A "):
                targets = [words[i + 1] for i, word in enumerate(words[:-1]) if word in JUMPS]
                if doomed(words[1]) or any(doomed(target) for target in targets):
                    removed_rules += 1
                    table["touched"] = True
                    continue
            kept.append(line)
        if table["touched"]:
            out.extend(kept)
    return ("\n".join(out) + "\n") if out else "", removed_chains, removed_rules


def touched_tables(dump, new):
    """The tables of ``dump`` that ``new`` replaces, as they are now (for the diff)."""
    names = {line for line in new.splitlines() if line.startswith("*")}
    lines, keep = [], False
    for line in dump.splitlines():
        if line.startswith("*"):
            keep = line in names
        if keep:
            lines.append(line)
    return ("\n".join(lines) + "\n") if lines else ""


def present_tables(listing):
    """``family name`` of each table in the output of ``nft list tables``."""
    return [" ".join(line.split()[1:3]) for line in listing.splitlines() if line.startswith("table ")]


def find(module, name):
    """Path of a command on the node, or None."""
    return module.get_bin_path(name)


def run(module, argv, data=None):
    rc, out, err = module.run_command(argv, data=data, binary_data=data is not None)
    if rc != 0:
        module.fail_json(msg="%s failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()), rc=rc)
    return out


def cleanup(module):
    params = module.params
    prefixes = tuple(params["chain_prefixes"])
    result = dict(changed=False, removed_chains=[], removed_rules=0, removed_tables=[])
    diffs = []

    for save, restore in FAMILIES:
        if not prefixes:
            break
        save_path, restore_path = find(module, save), find(module, restore)
        if not (save_path and restore_path):
            continue
        dump = run(module, [save_path])
        new, chains, rules = filter_tables(dump, prefixes)
        if not (chains or rules):
            continue
        command = save.split("-", maxsplit=1)[0]
        result["removed_chains"] += ["%s:%s" % (command, chain) for chain in chains]
        result["removed_rules"] += rules
        result["changed"] = True
        diffs.append(dict(before_header="%s (before)" % save, after_header="%s (after)" % save,
                          before=touched_tables(dump, new), after=new))
        if not module.check_mode:
            run(module, [restore_path], data=new)

    nft = find(module, "nft") if params["nft_tables"] else None
    if nft:
        present = present_tables(run(module, [nft, "list", "tables"]))
        doomed = [table for table in params["nft_tables"] if table in present]
        for table in doomed:
            result["removed_tables"].append(table)
            result["changed"] = True
            if not module.check_mode:
                run(module, [nft, "delete", "table"] + table.split())
        if doomed:
            diffs.append(dict(before_header="nft list tables (before)", after_header="nft list tables (after)",
                              before="".join("table %s\n" % table for table in present),
                              after="".join("table %s\n" % table for table in present if table not in doomed)))

    if module._diff and diffs:
        result["diff"] = diffs
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            chain_prefixes=dict(type="list", elements="str", default=[]),
            nft_tables=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    if any(not prefix for prefix in module.params["chain_prefixes"]):
        module.fail_json(msg="chain_prefixes holds an empty prefix, which would match every chain")
    module.exit_json(**cleanup(module))


if __name__ == "__main__":
    main()
