"""Run a playbook through ansible-runner in a private data directory, as AWX does.

AWX gives every job a private data directory (project/, inventory/, env/)
and reads the job's events and status from ansible-runner. These tests lay
out such a directory with the validation playbook and a shipped inventory,
run it non-interactively, and check the event stream and the exit status
for a good inventory and for a broken one.
"""
import os
import pathlib
import shutil
import sys

import ansible_runner
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"


@pytest.fixture(autouse=True)
def _toolchain_on_path(monkeypatch):
    """ansible-runner starts ansible-playbook from PATH, as in an execution environment."""
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def _private_data_dir(tmp_path, inventory_src, extravars=None):
    pdd = tmp_path / "pdd"
    (pdd / "env").mkdir(parents=True)
    shutil.copytree(ROOT / "playbooks", pdd / "project")
    shutil.copytree(inventory_src, pdd / "inventory")
    envvars = (
        "---\n"
        f"ANSIBLE_COLLECTIONS_PATH: '{COLLECTIONS}'\n"
        "ANSIBLE_HOST_KEY_CHECKING: 'true'\n"
        "ANSIBLE_NOCOLOR: '1'\n"
    )
    (pdd / "env" / "envvars").write_text(envvars)
    if extravars:
        lines = "".join(f"{k}: {v!r}\n" for k, v in extravars.items())
        (pdd / "env" / "extravars").write_text("---\n" + lines)
    return pdd


def _events(runner):
    """Event names, without the free-text "verbose" events (callback output such as timing summaries)."""
    return [e.get("event") for e in runner.events if e.get("event") != "verbose"]


def test_validation_job_succeeds_like_an_awx_job(tmp_path):
    pdd = _private_data_dir(tmp_path, ROOT / "inventories" / "development")
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook="validate.yml", quiet=True, timeout=300)
    events = _events(runner)
    assert runner.status == "successful", runner.stdout.read()
    assert runner.rc == 0
    assert events[0] == "playbook_on_start"
    assert events[-1] == "playbook_on_stats"
    assert "runner_on_ok" in events
    assert "runner_on_failed" not in events
    # Validation runs on the controller only: no managed host appears.
    stats = runner.stats
    assert set(stats["ok"]) == {"localhost"}, stats


@pytest.mark.parametrize("inventory,extravars,expected", [
    # A bad value given at launch time (AWX "extra variables").
    ("development", {"platform_pod_network": "not-a-cidr"}, ["platform_pod_network", "not-a-cidr"]),
    # The shipped production inventory still holds placeholder secrets.
    ("production", None, ["platform_postgresql_superuser_password", "placeholder"]),
])
def test_validation_job_fails_with_named_problem(tmp_path, inventory, extravars, expected):
    pdd = _private_data_dir(tmp_path, ROOT / "inventories" / inventory, extravars=extravars)
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook="validate.yml", quiet=True, timeout=300)
    assert runner.status == "failed"
    assert runner.rc != 0
    failed = [e for e in runner.events if e.get("event") == "runner_on_failed"]
    assert failed, _events(runner)
    msg = str(failed[0]["event_data"]["res"].get("msg", ""))
    for word in expected:
        assert word in msg, msg
    # Nothing but the controller was touched.
    assert set(runner.stats.get("ok", {})) <= {"localhost"}
    assert not runner.stats.get("dark")


if __name__ == "__main__":
    pytest.main([__file__])
