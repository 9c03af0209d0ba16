"""The renewal script the role cluster_certificates installs on the control
planes: it decides like the module kubeadm_certs, and renews and restarts
only what is due. A fake kubeadm (an executable file) answers with the
module tests' fixtures."""
from __future__ import annotations

import datetime
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.modules import kubeadm_certs

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "roles" / "cluster_certificates" / "files" / "normaldance-kubeadm-certs-renew.py"
FIXTURES = ROOT / "tests" / "unit" / "plugins" / "modules" / "fixtures" / "kubeadm"
DURATIONS = yaml.safe_load((ROOT / "tests" / "unit" / "plugins" / "module_utils" / "fixtures" / "validation"
                            / "durations.yml").read_text())
NOW = datetime.datetime(2026, 5, 1, tzinfo=datetime.timezone.utc)


def load_script():
    loader = importlib.machinery.SourceFileLoader("normaldance_kubeadm_certs_renew", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


renew = load_script()


def installed_script():
    """The script as tasks/timer.yml installs it: the duration parser's code in place of its import."""
    role_vars = yaml.safe_load((ROOT / "roles" / "cluster_certificates" / "vars" / "main.yml").read_text())
    line = role_vars["__cluster_certificates_duration_import"]
    parser = (ROOT / "plugins" / "module_utils" / "duration.py").read_text().rstrip("\n")
    source = SCRIPT.read_text().rstrip("\n")
    assert source.count(line) == 1, "the script no longer has the import line that vars/main.yml names"
    return "#!/usr/bin/python3\n" + source.replace(line, parser) + "\n"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    path = tmp_path_factory.mktemp("node") / "normaldance-kubeadm-certs-renew"
    path.write_text(installed_script())
    return path


def test_the_installed_script_needs_only_the_standard_library(installed):
    assert "ansible_collections" not in installed.read_text()
    # -I: no PYTHONPATH, no user site, not the test's sys.path (where the collection is importable).
    done = subprocess.run([sys.executable, "-I", str(installed), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "--renew-before" in done.stdout


@pytest.mark.parametrize("row", DURATIONS["valid"], ids=lambda row: row["text"])
def test_the_installed_script_reads_durations_like_the_collection(installed, row):
    namespace = {"__name__": "installed_renew_script"}
    exec(compile(installed.read_text(), str(installed), "exec"), namespace)  # noqa: S102 - the file the role installs
    assert namespace["duration_argument"](row["text"]) == row["seconds"]


@pytest.mark.parametrize("text", ["30", "0d", "1y"])
def test_the_installed_script_refuses_a_bad_threshold(installed, text):
    done = subprocess.run([sys.executable, "-I", str(installed), "--renew-before", text, "--dry-run"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "write for example 30d" in done.stderr


def test_the_script_restarts_what_the_module_restarts():
    assert renew.USERS == kubeadm_certs.USERS
    assert renew.COMPONENTS == kubeadm_certs.COMPONENTS
    assert renew.CERT_FILES == kubeadm_certs.CERT_FILES


@pytest.mark.parametrize("fixture,threshold,due", [
    ("certs-expiration-due.json", "30d", ["admin.conf", "apiserver"]),
    ("certs-expiration-due.json", "5d", []),
    ("certs-expiration-forced.json", "30d", []),
    ("certs-expiration-fresh.json", "3650d", []),
])
def test_due_for_renewal_agrees_with_the_module(fixture, threshold, due):
    text = (FIXTURES / fixture).read_text()
    seconds = renew.parse_duration(threshold)
    assert [name for name, _expiry in renew.due_for_renewal(json.loads(text), seconds, NOW)] == due
    certs, _cas = kubeadm_certs.parse_expiration(text, NOW)
    assert kubeadm_certs.due_for_renewal(certs, seconds, False) == due


@pytest.mark.parametrize("bad", DURATIONS["invalid"], ids=repr)
def test_bad_threshold_is_refused(bad):
    with pytest.raises(renew.argparse.ArgumentTypeError, match="write for example 30d"):
        renew.duration_argument(bad)


@pytest.fixture
def node(tmp_path, monkeypatch):
    """A fake kubeadm that answers check-expiration from a fixture and
    records renewals; a fake /proc whose processes the 'kubelet' restarts."""
    calls = tmp_path / "calls"
    kubeadm = tmp_path / "kubeadm"
    kubeadm.write_text(
        "#!%s\nimport pathlib, sys\n"
        "calls = pathlib.Path(%r)\n"
        "with calls.open('a') as f: f.write(' '.join(sys.argv[1:]) + '\\n')\n"
        "renewed = 'renew' in calls.read_text()\n"
        "if sys.argv[1:3] == ['certs', 'renew']:\n"
        "    pathlib.Path(%r, {'admin.conf': 'admin.conf'}.get(sys.argv[3], 'pki/' + sys.argv[3] + '.crt')).touch()\n"
        "if sys.argv[1:3] == ['certs', 'check-expiration']:\n"
        "    name = 'certs-expiration-due-renewed.json' if renewed else 'certs-expiration-due.json'\n"
        "    print(pathlib.Path(%r, name).read_text())\n"
        % (sys.executable, str(calls), str(tmp_path / "etc-kubernetes"), str(FIXTURES)))
    kubeadm.chmod(0o755)
    proc = tmp_path / "proc"
    pids = {"next": 100}

    def start(name, when=None):
        pids["next"] += 1
        pid = proc / str(pids["next"])
        pid.mkdir(parents=True)
        (pid / "cmdline").write_bytes(name.encode() + b"\0--kubeconfig=/etc/kubernetes/x\0")
        ticks = int((when or time.time() + 5) * os.sysconf("SC_CLK_TCK"))
        (pid / "stat").write_text("%d (%s) S %s %d 0\n" % (pids["next"], name[:15], "0 " * 18, ticks))

    stopped = []

    def kill(pid, _signal):
        name = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")[0].decode()
        for child in (proc / str(pid)).iterdir():
            child.unlink()
        (proc / str(pid)).rmdir()
        stopped.append(name)
        start(name)

    for name in renew.COMPONENTS:
        start(name, 1000000)
    (proc / "stat").write_text("cpu 1 2 3\nbtime 0\n")
    etc = tmp_path / "etc-kubernetes"
    for relative in renew.CERT_FILES.values():
        (etc / relative).parent.mkdir(parents=True, exist_ok=True)
        (etc / relative).write_text("certificate")
        os.utime(etc / relative, (900000, 900000))
    monkeypatch.setattr(renew, "PROC", str(proc))
    monkeypatch.setattr(renew, "ETC", str(etc))
    monkeypatch.setattr(renew, "LOCK_FILE", str(tmp_path / "lock"))
    monkeypatch.setattr(renew.os, "kill", kill)
    monkeypatch.setattr(renew.time, "sleep", lambda _s: None)
    monkeypatch.setattr(renew, "apiserver_live", lambda: True)
    quorum = {"answer": (True, []), "asked": 0}

    def etcd_quorum():
        quorum["asked"] += 1
        return quorum["answer"]

    monkeypatch.setattr(renew, "etcd_quorum", etcd_quorum)

    class Clock(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return NOW

    monkeypatch.setattr(renew.datetime, "datetime", Clock)
    return dict(kubeadm=str(kubeadm), calls=calls, stopped=stopped, etc=etc, quorum=quorum)


def test_renews_what_is_due_and_restarts_its_users(node, capsys):
    assert renew.main(["--kubeadm", node["kubeadm"]]) == 0
    calls = node["calls"].read_text().splitlines()
    assert [c for c in calls if c.startswith("certs renew")] == ["certs renew admin.conf", "certs renew apiserver"]
    assert node["stopped"] == ["kube-apiserver"]
    out = capsys.readouterr().out
    assert "renewed apiserver: now expires 2027-05-01T00:00:05+00:00" in out
    assert "BEGIN" not in out and "PRIVATE" not in out


def test_dry_run_changes_nothing(node, capsys):
    assert renew.main(["--kubeadm", node["kubeadm"], "--dry-run"]) == 0
    assert "renew admin.conf" not in node["calls"].read_text()
    assert node["stopped"] == []
    assert "would renew apiserver" in capsys.readouterr().out


def test_nothing_due_says_when_the_first_expires(node, capsys):
    assert renew.main(["--kubeadm", node["kubeadm"], "--renew-before", "1d"]) == 0
    assert node["stopped"] == []
    assert "nothing to renew: the first certificate to expire is front-proxy-client" in capsys.readouterr().out


def test_a_failing_kubeadm_makes_the_unit_fail(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "kubeadm"
    broken.write_text("#!/bin/sh\necho 'cannot read the CA' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(renew, "LOCK_FILE", str(tmp_path / "lock"))
    assert renew.main(["--kubeadm", str(broken)]) == 1
    assert "cannot read the CA" in capsys.readouterr().out


def test_a_restart_that_did_not_happen_is_done_by_the_next_run(node, capsys):
    (node["etc"] / "pki" / "etcd" / "peer.crt").touch()  # renewed, etcd not restarted
    assert renew.main(["--kubeadm", node["kubeadm"], "--renew-before", "1d"]) == 0
    assert "certs renew" not in node["calls"].read_text()
    assert node["stopped"] == ["etcd"]
    assert "etcd run with certificates older than the files on disk" in capsys.readouterr().out


def test_no_renewal_while_etcd_would_lose_its_quorum(node, capsys):
    (node["etc"] / "pki" / "etcd" / "peer.crt").touch()  # etcd has to restart
    node["quorum"]["answer"] = (False, ["nd-cp1"])
    assert renew.main(["--kubeadm", node["kubeadm"]]) == 1
    assert "certs renew" not in node["calls"].read_text()
    assert node["stopped"] == []
    assert "member(s) nd-cp1 do not answer healthy" in capsys.readouterr().out
    assert renew.main(["--kubeadm", node["kubeadm"], "--skip-etcd-quorum-check"]) == 0
    assert "etcd" in node["stopped"]
