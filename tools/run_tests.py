"""Run every test stage of the collection, in order, and summarise.

Each stage is a `make` target; all stages run even when one fails, so a
single run shows every problem. The exit status is non-zero when any stage
fails. Set STAGES (space separated) to run a subset, e.g.
``STAGES="units integration" make test``.
"""
import os
import subprocess
import sys
import time

STAGES = [
    ("yamllint", "YAML style"),
    ("ansible-lint", "ansible-lint, production profile"),
    ("sanity", "ansible-test sanity"),
    ("units", "unit tests (pytest, tests/unit)"),
    ("integration", "integration tests (pytest, tests/integration)"),
    ("lab-artifacts-tests", "lab artifact builder tests (pytest, go test)"),
    ("molecule", "Molecule scenarios"),
    ("build", "ansible-galaxy collection build"),
    ("docs-lint", "antsibull-docs lint-collection-docs"),
    ("test-cluster", "site.yml on the lab: bootstrap, rerun changed=0, check mode, cluster tests, day-2 playbooks"),
    ("test-ha", "3 control planes on the lab: etcd and API everywhere, losing a control plane"),
]


def main():
    wanted = os.environ.get("STAGES", "").split()
    results = []
    for target, title in STAGES:
        if wanted and target not in wanted:
            continue
        print(f"\n===== {target}: {title} =====", flush=True)
        start = time.monotonic()
        rc = subprocess.call(["make", "--no-print-directory", target])
        results.append((target, rc, time.monotonic() - start))
    print("\n===== summary =====")
    for target, rc, seconds in results:
        print(f"{'PASS' if rc == 0 else 'FAIL'}  {target:<14} {seconds:7.1f}s")
    passed = sum(1 for result in results if result[1] == 0)
    failed = len(results) - passed
    print(f"stages: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
