"""Validation through the real ansible-playbook: broken inventories fail, shipped ones pass.

Each directory of bad_inventories/ is one case: an inventory (hosts.yml
and group_vars) with one or more mistakes, and expected.txt with the exact
messages, in order; each directory of good_inventories/ an inventory that
passes. A case that names files on the controller (certificates, keys)
writes @FILES@ for their directory; tests/inventory_cases.py makes the files
at run time and puts the case, with the directory in place, in a temporary
directory. The hosts of every case use SSH to TEST-NET addresses; the run
must not even try to reach them.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from inventory_cases import BAD, BAD_CASES as CASES, GOOD, GOOD_CASES, prepare

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "validate.yml"
_NEXT_TO_PYTHON = pathlib.Path(sys.executable).parent / "ansible-playbook"
ANSIBLE_PLAYBOOK = str(_NEXT_TO_PYTHON) if _NEXT_TO_PYTHON.exists() else "ansible-playbook"
SECRETS = [
    "platform_backup_encryption_passphrase",
    "platform_grafana_admin_password",
    "platform_postgresql_app_password",
    "platform_postgresql_replication_password",
    "platform_postgresql_superuser_password",
    "platform_redis_password",
    "platform_vault_unseal_passphrase",
]
# Signs that a connection to a managed host was attempted (seen at -vvv).
CONTACT_MARKERS = ("ESTABLISH SSH CONNECTION", "SSH: EXEC", "UNREACHABLE", "<192.0.2.", "<198.51.100.", "<203.0.113.")


def run_validate(inventory, *extra):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    command = [ANSIBLE_PLAYBOOK, "-vvv", "-i", str(inventory), str(PLAYBOOK)] + list(extra)
    return subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120, check=False)


def failed_result(output):
    match = re.search(r"^fatal: \[localhost\]: FAILED! => ", output, re.MULTILINE)
    assert match, output
    return json.JSONDecoder().raw_decode(output[match.end():])[0]


def recap_hosts(output):
    recap = output.split("PLAY RECAP", 1)[1]
    return sorted(set(re.findall(r"^(\S+)\s+: ok=", recap, re.MULTILINE)))


def assert_no_host_contacted(output):
    for marker in CONTACT_MARKERS:
        assert marker not in output, "a managed host was contacted (%r)" % marker
    assert recap_hosts(output) == ["localhost"]


def test_at_least_68_cases():
    assert len(CASES) >= 68


@pytest.mark.parametrize("case", CASES)
def test_broken_inventory_fails_with_the_exact_messages(case, tmp_path):
    inventory, expected = prepare(BAD / case, tmp_path)
    assert expected
    run = run_validate(inventory)
    assert run.returncode == 2, run.stdout
    assert failed_result(run.stdout)["problems"] == expected
    for line in expected:
        # What the user reads: one line per problem in the error summary.
        assert "\n- %s\n" % line in run.stdout + "\n"
    assert_no_host_contacted(run.stdout)


@pytest.mark.parametrize("case", GOOD_CASES)
def test_good_inventory_passes(case, tmp_path):
    inventory, expected = prepare(GOOD / case, tmp_path)
    assert expected == [], "a good inventory has no expected.txt"
    run = run_validate(inventory)
    assert run.returncode == 0, run.stdout
    assert "the inventory is valid" in run.stdout
    assert_no_host_contacted(run.stdout)


def test_there_are_good_inventories():
    assert GOOD_CASES


@pytest.mark.parametrize("environment", ["lab", "lab-ha", "lab-scale", "development"])
def test_shipped_inventory_passes(environment):
    run = run_validate(ROOT / "inventories" / environment / "hosts.yml")
    assert run.returncode == 0, run.stdout
    assert "the inventory is valid" in run.stdout
    assert_no_host_contacted(run.stdout)


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_shipped_inventory_passes_once_secrets_are_provided(environment, tmp_path):
    # The stand-in for the vault-encrypted values an operator puts in place.
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps(dict((name, "integration-%d" % number) for number, name in enumerate(SECRETS))))
    run = run_validate(ROOT / "inventories" / environment / "hosts.yml", "-e", "@%s" % secrets)
    assert run.returncode == 0, run.stdout
    assert "integration-" not in run.stdout
    assert_no_host_contacted(run.stdout)


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_shipped_placeholders_are_refused(environment):
    run = run_validate(ROOT / "inventories" / environment / "hosts.yml")
    assert run.returncode == 2
    assert failed_result(run.stdout)["problems"] == [
        "%s (group all): '********' is the shipped placeholder; replace it with an ansible-vault encrypted value "
        "before deploying %s" % (name, environment) for name in SECRETS
    ]
    assert_no_host_contacted(run.stdout)


def test_vault_encrypted_secrets_pass_and_stay_hidden(tmp_path):
    """The workflow of docs/inventory.md: encrypt_string per secret, one vault ID per environment."""
    inventory = tmp_path / "production"
    shutil.copytree(ROOT / "inventories" / "production", inventory)
    password_file = tmp_path / "production.pass"
    password_file.write_text("an-example-vault-password\n")
    vault = pathlib.Path(ANSIBLE_PLAYBOOK).with_name("ansible-vault") if os.sep in ANSIBLE_PLAYBOOK else "ansible-vault"
    blocks = []
    for number, name in enumerate(SECRETS):
        encrypted = subprocess.run(
            [str(vault), "encrypt_string", "--vault-id", "production@%s" % password_file, "--name", name,
             "plain-secret-%d" % number],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True, timeout=60)
        blocks.append(encrypted.stdout)
    (inventory / "group_vars" / "all" / "secrets.yml").write_text("---\n" + "".join(blocks))
    run = run_validate(inventory / "hosts.yml", "--vault-id", "production@%s" % password_file)
    assert run.returncode == 0, run.stdout
    assert "plain-secret-" not in run.stdout
    assert_no_host_contacted(run.stdout)
    # Without the vault password each secret is reported, still without its value.
    locked = run_validate(inventory / "hosts.yml")
    assert locked.returncode == 2
    problems = failed_result(locked.stdout)["problems"]
    assert sorted(problem.split(" ")[0] for problem in problems) == SECRETS
    assert all("its template cannot be rendered" in problem for problem in problems)
    assert "plain-secret-" not in locked.stdout


TOP_LEVEL = sorted(path.name for path in (ROOT / "playbooks").glob("*.yml") if path.name != "validate.yml")


@pytest.mark.parametrize("playbook", TOP_LEVEL)
def test_every_top_level_playbook_validates_first(playbook):
    """A bad inventory stops every playbook before any host is contacted, even when limited with --tags."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_NOCOLOR="1")
    run = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-vvv", "-i", str(BAD / "worker_in_etcd" / "hosts.yml"), str(ROOT / "playbooks" / playbook),
         "--tags", "a-tag-no-task-has"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    assert run.returncode == 2, run.stdout
    assert failed_result(run.stdout)["problems"] == (BAD / "worker_in_etcd" / "expected.txt").read_text().splitlines()
    assert_no_host_contacted(run.stdout)
