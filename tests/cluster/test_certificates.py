"""Certificates on the lab: certs.yml reports, renews on demand, and the
renewal timer runs on every control plane.

What a user relies on and what is checked here:

1. `playbooks/certs.yml` (report only: nothing is due on a young cluster)
   succeeds and changes no served certificate;
2. with `cluster_certificates_force_renew=true` it renews: every control
   plane's API server now serves a certificate whose notAfter is later than
   before (read from the TLS handshake on <node>:6443, and on the API
   endpoint from the inventory), and kubeadm reports every certificate on
   the node as valid for longer than before;
3. the API answers again on every renewed node (/livez);
4. the renewal timer is enabled and active (`systemctl` over SSH).

ND_CERTS_LIMIT (for example `nd-cp3`) limits the renewal to some control
planes; the API endpoint is then not checked, since the node holding the
address may not be one of them. Run against a running lab (`make lab`).
Without one the tests are skipped, unless ND_LAB_REQUIRED is set, in which
case a missing lab is a failure. A forced renewal restarts the control-plane
components of every (limited) control plane, one node at a time.
"""
import datetime
import json
import os
import pathlib
import re
import shutil
import ssl
import subprocess
import sys
import urllib.request

import pytest
import yaml

import lablib

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = pathlib.Path(os.environ.get("LAB_INVENTORY", ROOT / "inventories" / "lab" / "hosts.yml"))
KUBECONFIG = INVENTORY.parent / "artifacts" / "admin.conf"
SSH_DIR = INVENTORY.parent.parent.parent / "lab" / ".state" / "ssh"
TIMER = "normaldance-kubeadm-certs-renew.timer"

PROBLEM = lablib.lab_problem(lablib.Inventory(INVENTORY))
if PROBLEM:
    if os.environ.get("ND_LAB_REQUIRED"):
        raise RuntimeError(f"ND_LAB_REQUIRED is set but {PROBLEM}")
    pytest.skip(PROBLEM, allow_module_level=True)

from cryptography import x509  # noqa: E402  (only needed when a cluster exists)


def _inventory():
    data = yaml.safe_load(INVENTORY.read_text())
    hosts = {}

    def walk(node):
        for name, host_vars in ((node or {}).get("hosts") or {}).items():
            hosts.setdefault(name, host_vars or {})
        for child in ((node or {}).get("children") or {}).values():
            walk(child)

    walk(data["all"])
    control = data["all"]["children"]["k8s_cluster"]["children"]["control_plane"]["hosts"]
    addresses = {name: (hosts[name] or {}).get("ansible_host", name) for name in control}
    endpoint = None
    network = INVENTORY.parent / "group_vars" / "all" / "network.yml"
    if network.exists():
        settings = yaml.safe_load(network.read_text()) or {}
        if settings.get("platform_api_endpoint_address"):
            endpoint = (settings["platform_api_endpoint_address"], int(settings.get("platform_api_endpoint_port", 6443)))
    return addresses, endpoint


ADDRESSES, ENDPOINT = _inventory()
LIMIT = [h for h in re.split(r"[,\s]+", os.environ.get("ND_CERTS_LIMIT", "")) if h]
TARGETS = {name: ADDRESSES[name] for name in (LIMIT or sorted(ADDRESSES))}


def _not_after(host, port=6443):
    """notAfter of the certificate the API server at host:port serves."""
    pem = ssl.get_server_certificate((host, port), timeout=10)
    return x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc


def _served():
    served = {name: _not_after(address) for name, address in TARGETS.items()}
    if ENDPOINT and not LIMIT:
        served["endpoint"] = _not_after(*ENDPOINT)
    return served


def _ssh(address, command):
    argv = ["ssh", "-i", str(SSH_DIR / "id_ed25519"), "-o", f"UserKnownHostsFile={SSH_DIR / 'known_hosts'}",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", f"root@{address}", command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _kubeadm_expiry(address):
    """{name: expiry} of the certificates kubeadm reports on the node."""
    done = _ssh(address, "kubeadm certs check-expiration -o json")
    assert done.returncode == 0, done.stderr
    return {c["name"]: c["expirationDate"] for c in json.loads(done.stdout)["certificates"] if not c["missing"]}


def _playbook(*extra):
    binary = shutil.which("ansible-playbook") or str(pathlib.Path(sys.executable).with_name("ansible-playbook"))
    argv = [binary, "-i", str(INVENTORY), str(ROOT / "playbooks" / "certs.yml")]
    if LIMIT:
        argv += ["--limit", ",".join(LIMIT + ["localhost"])]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run(argv + list(extra), cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
                          check=False)
    assert done.returncode == 0, lablib.excerpt(done.stdout + done.stderr)
    return lablib.recap(done.stdout)


@pytest.fixture(scope="module")
def renewal():
    """Serve, report, serve, force, serve: what the tests below look at."""
    before = _served()
    kubeadm_before = {name: _kubeadm_expiry(address) for name, address in TARGETS.items()}
    report = _playbook()
    after_report = _served()
    forced = _playbook("-e", "cluster_certificates_force_renew=true")
    after = _served()
    kubeadm_after = {name: _kubeadm_expiry(address) for name, address in TARGETS.items()}
    return dict(before=before, report=report, after_report=after_report, forced=forced, after=after,
                kubeadm_before=kubeadm_before, kubeadm_after=kubeadm_after)


def test_report_renews_nothing(renewal):
    for name in TARGETS:
        assert renewal["report"][name]["failed"] == 0
    assert renewal["after_report"] == renewal["before"], "the report run changed a served certificate"


def test_forced_renewal_serves_a_later_certificate(renewal):
    for name in TARGETS:
        assert renewal["forced"][name]["changed"] >= 1, f"{name}: the forced run changed nothing"
    for where, before in renewal["before"].items():
        after = renewal["after"][where]
        assert after > before, f"{where}: API certificate notAfter {after} is not later than {before}"
        assert after > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=360)


def test_kubeadm_reports_every_certificate_renewed(renewal):
    for name in TARGETS:
        before, after = renewal["kubeadm_before"][name], renewal["kubeadm_after"][name]
        assert set(after) == set(before)
        older = [cert for cert in before if after[cert] <= before[cert]]
        assert not older, f"{name}: not renewed: {older}"


def test_api_answers_on_every_renewed_node(renewal):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # anonymous liveness probe only
    for name, address in TARGETS.items():
        with urllib.request.urlopen(f"https://{address}:6443/livez", context=context, timeout=10) as answer:
            assert answer.status == 200, f"{name}: /livez answered {answer.status}"


@pytest.mark.parametrize("verb,state", [("is-enabled", "enabled"), ("is-active", "active")])
def test_renewal_timer_is_enabled_and_active(renewal, verb, state):
    for name, address in TARGETS.items():
        done = _ssh(address, f"systemctl {verb} {TIMER}")
        assert done.stdout.strip() == state, f"{name}: systemctl {verb} {TIMER}: {done.stdout}{done.stderr}"
