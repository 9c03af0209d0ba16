"""Exit 0 when every host in the last PLAY RECAP of an ansible-playbook log
shows changed=0, failed=0 and unreachable=0; otherwise list the hosts that
do not and exit 1. Usage: recap_unchanged.py LOG"""
import re
import sys


def main(path):
    text = open(path, encoding="utf-8").read()
    recap = text[text.rindex("PLAY RECAP"):]
    bad = []
    for host, stats in re.findall(r"^(\S+)\s+:\s+(.*)$", recap, re.M):
        counts = dict(re.findall(r"(\w+)=(\d+)", stats))
        if any(int(counts.get(k, 0)) for k in ("changed", "failed", "unreachable")):
            bad.append(f"{host}: {stats.strip()}")
    print("\n".join(bad) if bad else "every host: changed=0 failed=0 unreachable=0")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
