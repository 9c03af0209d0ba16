"""kubeadm_certs: report, renew what is due, force, check mode, diff, restarts of the static-pod components."""
from __future__ import annotations

import datetime
import os
import time

import pytest

from ansible.module_utils import basic
from ansible_collections.normaldance.platform.plugins.modules import kubeadm_certs
from ansible_collections.normaldance.platform.tests.unit.plugins.modules.kubeadm_helpers import (
    fixture_text,
    run_module,
)

NOW = datetime.datetime(2026, 5, 1, tzinfo=datetime.timezone.utc)
ALL_RENEWABLE = [
    "admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "controller-manager.conf",
    "etcd-healthcheck-client", "etcd-peer", "etcd-server", "scheduler.conf", "super-admin.conf",
]
COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
CMDLINES = {
    "etcd": ["etcd", "--cert-file=/etc/kubernetes/pki/etcd/server.crt"],
    "kube-apiserver": ["kube-apiserver", "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt"],
    "kube-controller-manager": ["kube-controller-manager", "--kubeconfig=/etc/kubernetes/controller-manager.conf"],
    "kube-scheduler": ["kube-scheduler", "--kubeconfig=/etc/kubernetes/scheduler.conf"],
}


TICKS = os.sysconf("SC_CLK_TCK")
LONG_AGO = 1000000  # seconds since the epoch: when the fake processes and files were made


def write_process(proc, pid, argv, started):
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    fields = ["S"] + ["0"] * 18 + [str(int(started * TICKS))] + ["0"] * 10
    (proc / str(pid) / "stat").write_text("%d (%s) %s\n" % (pid, argv[0][:15], " ".join(fields)))


class Kubelet:
    """A fake node: /proc with the four components, /etc/kubernetes with the
    certificate files. A stopped process is replaced by a new one, as the
    kubelet does when a static pod's container exits; a renewal rewrites
    the certificate's file."""

    def __init__(self, root, restarts=True):
        self.proc = root / "proc"
        self.etc = root / "etc-kubernetes"
        self.restarts = restarts
        self.next_pid = 100
        self.stopped = []
        self.proc.mkdir()
        (self.proc / "stat").write_text("cpu  1 2 3\nbtime 0\nprocesses 5\n")
        for argv in CMDLINES.values():
            self.start(argv, LONG_AGO)
        write_process(self.proc, 9, ["/usr/bin/etcd", "--data-dir=/srv/not-kubernetes"], LONG_AGO)  # not ours
        (self.proc / "self").mkdir()
        for relative in kubeadm_certs.CERT_FILES.values():
            self.write_cert(relative, LONG_AGO - 3600)

    def write_cert(self, relative, when=None):
        path = self.etc / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("certificate")
        if when is not None:
            os.utime(path, (when, when))

    def start(self, argv, started=None):
        self.next_pid += 1
        write_process(self.proc, self.next_pid, argv, started or time.time() + 5)

    def kill(self, pid, _signal):
        argv = (self.proc / str(pid) / "cmdline").read_bytes().decode().split("\0")
        for child in (self.proc / str(pid)).iterdir():
            child.unlink()
        (self.proc / str(pid)).rmdir()
        self.stopped.append(argv[0])
        if self.restarts:
            self.start(argv[:-1])


@pytest.fixture
def node(tmp_path, monkeypatch):
    kubelet = Kubelet(tmp_path)
    monkeypatch.setattr(kubeadm_certs, "PROC", str(kubelet.proc))
    monkeypatch.setattr(kubeadm_certs, "ETC", str(kubelet.etc))
    monkeypatch.setattr(kubeadm_certs, "LOCK_FILE", str(tmp_path / "certs.lock"))
    monkeypatch.setattr(kubeadm_certs, "utcnow", lambda: NOW)
    monkeypatch.setattr(kubeadm_certs.os, "kill", kubelet.kill)
    monkeypatch.setattr(kubeadm_certs.time, "sleep", lambda _s: None)
    monkeypatch.setattr(kubeadm_certs, "apiserver_live", lambda _port: True)
    kubelet.quorum = (True, [])
    kubelet.quorum_asked = 0

    def quorum(_module):
        kubelet.quorum_asked += 1
        return kubelet.quorum

    monkeypatch.setattr(kubeadm_certs, "etcd_quorum", quorum)
    return kubelet


def kubeadm_script(before, after=None, kubelet=None):
    """check-expiration answers `before` until something is renewed, then
    `after`; a renewal rewrites the certificate's file on the fake node."""
    renewed = []

    def expiration(_argv):
        return 0, fixture_text(after if renewed and after else before), ""

    def renew(argv):
        renewed.append(argv[3])
        if kubelet:
            kubelet.write_cert(kubeadm_certs.CERT_FILES[argv[3]])
        return 0, "certificate renewed\n", ""

    return [
        (("kubeadm", "certs", "check-expiration"), expiration),
        (("kubeadm", "certs", "renew"), renew),
    ]


CASES = [
    # id, args, check mode, before, after, changed, renewed, restarted
    ("query-reports-only", dict(state="query"), False,
     "certs-expiration-due.json", None, False, [], []),
    ("renews-what-is-due", dict(), False,
     "certs-expiration-due.json", "certs-expiration-due-renewed.json", True, ["admin.conf", "apiserver"],
     ["kube-apiserver"]),
    ("check-mode-predicts", dict(), True,
     "certs-expiration-due.json", None, True, ["admin.conf", "apiserver"], ["kube-apiserver"]),
    ("nothing-due-with-short-threshold", dict(renew_before="5d"), False,
     "certs-expiration-due.json", None, False, [], []),
    ("longer-threshold-renews-more", dict(renew_before="20d"), True,
     "certs-expiration-due.json", None, True, ["admin.conf", "apiserver"], ["kube-apiserver"]),
    ("converged-after-renewal", dict(), False,
     "certs-expiration-forced.json", None, False, [], []),
    ("force-renews-all-but-external", dict(force=True), False,
     "certs-expiration-due.json", "certs-expiration-forced.json", True, ALL_RENEWABLE, COMPONENTS),
    ("force-without-restart", dict(force=True, restart=False), False,
     "certs-expiration-due.json", "certs-expiration-forced.json", True, ALL_RENEWABLE, []),
    ("query-ignores-force", dict(state="query", force=True), False,
     "certs-expiration-due.json", None, False, [], []),
    ("fresh-node-has-nothing", dict(force=True), False,
     "certs-expiration-fresh.json", None, False, [], []),
]


@pytest.mark.parametrize("case_id,args,check,before,after,changed,renewed,restarted", CASES, ids=[c[0] for c in CASES])
def test_cases(monkeypatch, node, case_id, args, check, before, after, changed, renewed, restarted):
    result, failed, commands = run_module(monkeypatch, kubeadm_certs.main, args, kubeadm_script(before, after, node),
                                          check_mode=check)
    assert not failed, result
    # Without restarts, the components keep the old certificates: they are reported.
    assert result["restart_pending"] == (COMPONENTS if args.get("restart") is False and not check else [])
    assert result["changed"] is changed
    assert result["renewed"] == renewed
    assert result["restarted"] == restarted
    assert [c["name"] for c in result["certificates"] if c["renewed"]] == renewed
    ran = [c[3] for c in commands.calls if c[2] == "renew"]
    assert ran == ([] if check else renewed)
    assert node.stopped == ([] if check else restarted)


def test_result_after_renewal_shows_new_expiry_and_days(monkeypatch, node):
    result, failed, _commands = run_module(
        monkeypatch, kubeadm_certs.main, {},
        kubeadm_script("certs-expiration-due.json", "certs-expiration-due-renewed.json"))
    assert not failed
    by_name = {c["name"]: c for c in result["certificates"]}
    assert by_name["apiserver"] == dict(name="apiserver", expiry="2027-05-01T00:00:05+00:00", residual_days=365,
                                        ca="ca", externally_managed=False, missing=False, renewed=True)
    assert by_name["etcd-peer"]["renewed"] is False and by_name["etcd-peer"]["residual_days"] == 335
    assert result["earliest_expiry"]["name"] == "front-proxy-client"
    assert result["earliest_expiry"]["residual_days"] == 4
    assert [c["name"] for c in result["certificate_authorities"]] == ["ca", "etcd-ca", "front-proxy-ca"]
    assert "renewed" not in result["certificate_authorities"][0]


def test_warnings_for_what_cannot_be_renewed(monkeypatch, node):
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: seen.append(text))
    run_module(monkeypatch, kubeadm_certs.main, dict(state="query"), kubeadm_script("certs-expiration-due.json"))
    warnings = " ".join(seen)
    assert "front-proxy-ca" in warnings and "cannot renew a CA" in warnings
    assert "front-proxy-client" in warnings and "externally managed" in warnings
    assert "apiserver expires on 2026-05-11" in warnings


@pytest.mark.parametrize("check,after_text", [
    (False, "admin.conf: 2027-05-01T00:00:05+00:00\napiserver: 2027-05-01T00:00:05+00:00\n"),
    (True, "admin.conf: (renewed)\napiserver: (renewed)\n"),
], ids=["applied", "check-mode"])
def test_diff_shows_expiry_before_and_after(monkeypatch, node, check, after_text):
    result, failed, _commands = run_module(
        monkeypatch, kubeadm_certs.main, {},
        kubeadm_script("certs-expiration-due.json", "certs-expiration-due-renewed.json"), check_mode=check, diff=True)
    assert not failed
    assert result["diff"]["before"] == "admin.conf: 2026-05-20T08:00:00+00:00\napiserver: 2026-05-11T08:00:00+00:00\n"
    assert result["diff"]["after"] == after_text


def test_no_diff_when_nothing_changes(monkeypatch, node):
    result, _failed, _commands = run_module(monkeypatch, kubeadm_certs.main, {},
                                            kubeadm_script("certs-expiration-forced.json"), diff=True)
    assert "diff" not in result


def test_bad_threshold_is_a_clear_error(monkeypatch, node):
    result, failed, commands = run_module(monkeypatch, kubeadm_certs.main, dict(renew_before="30 days"), [])
    assert failed and "30 days" in result["msg"] and "30d" in result["msg"]
    assert commands.calls == []


def test_failed_renewal_fails_without_restarting(monkeypatch, node):
    script = [
        (("kubeadm", "certs", "check-expiration"), (0, fixture_text("certs-expiration-due.json"), "")),
        (("kubeadm", "certs", "renew"), (1, "", "error: unable to load the CA")),
    ]
    result, failed, _commands = run_module(monkeypatch, kubeadm_certs.main, {}, script)
    assert failed and "unable to load the CA" in result["msg"]
    assert node.stopped == []


def test_component_that_does_not_come_back_fails(monkeypatch, node):
    node.restarts = False
    result, failed, _commands = run_module(
        monkeypatch, kubeadm_certs.main, dict(restart_timeout=0),
        kubeadm_script("certs-expiration-due.json", "certs-expiration-due-renewed.json"))
    assert failed and "kube-apiserver did not run again" in result["msg"]


def test_config_is_passed_to_kubeadm(monkeypatch, node):
    _result, failed, commands = run_module(
        monkeypatch, kubeadm_certs.main, dict(config="/etc/kubernetes/kubeadm.yaml"),
        kubeadm_script("certs-expiration-due.json", "certs-expiration-due-renewed.json"))
    assert not failed
    assert all(c[-2:] == ["--config", "/etc/kubernetes/kubeadm.yaml"] for c in commands.calls)


def test_running_finds_only_kubeadm_components(tmp_path):
    kubelet = Kubelet(tmp_path)
    found = kubeadm_certs.Node.__new__(kubeadm_certs.Node)
    found.proc = str(kubelet.proc)
    assert found.running("etcd") == [101]  # not pid 9, which uses no /etc/kubernetes file
    assert found.running("kube-controller-manager") == [103]
    assert found.running("kube-proxy") == []


def test_unknown_certificate_restarts_every_component():
    assert kubeadm_certs.components_to_restart(["some-new-cert"]) == COMPONENTS
    assert kubeadm_certs.components_to_restart(["admin.conf", "super-admin.conf"]) == []
    assert kubeadm_certs.components_to_restart(["scheduler.conf", "etcd-peer"]) == ["etcd", "kube-scheduler"]


def test_output_of_another_kind_is_rejected():
    with pytest.raises(ValueError, match="CertificateExpirationInfo"):
        kubeadm_certs.parse_expiration('{"kind": "Status"}', NOW)
    with pytest.raises(ValueError, match="JSON"):
        kubeadm_certs.parse_expiration("CERTIFICATE EXPIRES", NOW)


PENDING = [
    # id, args, check mode, changed, restarted, restart_pending after the task, processes stopped
    ("restarts-what-runs-with-an-old-certificate", dict(), False, True, ["kube-apiserver"], [], ["kube-apiserver"]),
    ("check-mode-predicts-the-restart", dict(), True, True, ["kube-apiserver"], ["kube-apiserver"], []),
    ("query-only-reports-it", dict(state="query"), False, False, [], ["kube-apiserver"], []),
    ("no-restart-leaves-it-pending", dict(restart=False), False, False, [], ["kube-apiserver"], []),
]


@pytest.mark.parametrize("case_id,args,check,changed,restarted,pending,stopped", PENDING, ids=[c[0] for c in PENDING])
def test_interrupted_renewal_is_finished_by_the_next_run(monkeypatch, node, case_id, args, check, changed,
                                                         restarted, pending, stopped):
    """A run renewed the API server certificate and stopped before restarting it
    (or someone ran kubeadm certs renew by hand): nothing is due any more."""
    node.write_cert("pki/apiserver.crt")
    result, failed, commands = run_module(monkeypatch, kubeadm_certs.main, args,
                                          kubeadm_script("certs-expiration-forced.json"), check_mode=check)
    assert not failed, result
    assert result["renewed"] == []
    assert result["changed"] is changed
    assert result["restarted"] == restarted
    assert result["restart_pending"] == pending
    assert node.stopped == stopped
    assert not [c for c in commands.calls if c[2] == "renew"]


def test_started_reads_proc_stat(tmp_path):
    kubelet = Kubelet(tmp_path)
    reader = kubeadm_certs.Node.__new__(kubeadm_certs.Node)
    reader.proc = str(kubelet.proc)
    assert reader.started(101) == pytest.approx(LONG_AGO, abs=0.05)


QUORUM = [
    # id, args, quorum answer, fails, asked
    ("etcd-restart-with-quorum", dict(force=True), (True, []), False, 1),
    ("etcd-restart-would-lose-quorum", dict(force=True), (False, ["nd-cp1"]), True, 1),
    ("quorum-check-disabled", dict(force=True, check_etcd_quorum=False), (False, ["nd-cp1"]), False, 0),
    ("no-etcd-restart-no-question", dict(), (False, ["nd-cp1"]), False, 0),
    ("no-restart-no-question", dict(force=True, restart=False), (False, ["nd-cp1"]), False, 0),
]


@pytest.mark.parametrize("case_id,args,answer,fails,asked", QUORUM, ids=[c[0] for c in QUORUM])
def test_etcd_quorum_is_checked_before_renewing(monkeypatch, node, case_id, args, answer, fails, asked):
    node.quorum = answer
    result, failed, commands = run_module(
        monkeypatch, kubeadm_certs.main, args,
        kubeadm_script("certs-expiration-due.json", "certs-expiration-forced.json", node))
    assert failed is fails, result
    assert node.quorum_asked == asked
    if fails:
        assert "nd-cp1" in result["msg"] and "Nothing was renewed" in result["msg"]
        assert not [c for c in commands.calls if c[2] == "renew"] and node.stopped == []


def test_check_mode_does_not_ask_etcd(monkeypatch, node):
    node.quorum = (False, ["nd-cp1"])
    result, failed, _commands = run_module(monkeypatch, kubeadm_certs.main, dict(force=True),
                                           kubeadm_script("certs-expiration-due.json"), check_mode=True)
    assert not failed and result["changed"] and node.quorum_asked == 0
