# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The role installs this file with a "#!/usr/bin/python3" line on top (the
# collection's sanity tests allow no such line in the source).
"""Renew the kubeadm certificates of this control plane that expire soon.

Installed by the role normaldance.platform.cluster_certificates and run by
the systemd timer normaldance-kubeadm-certs-renew.timer, without Ansible:

1. reads the expiry of every certificate with
   `kubeadm certs check-expiration -o json`;
2. renews with `kubeadm certs renew <name>` each one kubeadm can renew whose
   residual time is below --renew-before;
3. restarts the static-pod components that use a renewed certificate, or
   that still run with an older certificate than the file on disk (a
   renewal whose restart did not happen), in the order etcd,
   kube-apiserver, kube-controller-manager, kube-scheduler:
   SIGTERM to the process, after which the kubelet starts a new container in
   the same pod; waits for each to run again and for the local API server
   to answer /livez. Before renewing, when etcd has to restart, it checks
   that the other etcd members keep the quorum meanwhile, and otherwise
   renews nothing and fails (the next day's run tries again).

It does what the module normaldance.platform.kubeadm_certs does, with the
Python standard library only, and takes the same lock so that the two never
run at once. Output goes to the journal; a failure makes the unit fail.
Never reads or prints key material.

    normaldance-kubeadm-certs-renew [--renew-before 30d] [--dry-run]
"""

import argparse
import datetime
import fcntl
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

# The collection's duration parser (plugins/module_utils/duration.py). The
# role installs this script with that file's code in place of this import
# (vars/main.yml names the line), so that the node needs nothing but the
# standard library; run from the collection (the unit tests), it is imported.
from ansible_collections.normaldance.platform.plugins.module_utils.duration import DurationError, parse_duration

LOCK_FILE = "/run/lock/normaldance-kubeadm-certs.lock"
PROC = "/proc"
ETC = "/etc/kubernetes"
APISERVER_MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
# Keep in step with plugins/modules/kubeadm_certs.py.
USERS = {
    "apiserver": ["kube-apiserver"],
    "apiserver-kubelet-client": ["kube-apiserver"],
    "apiserver-etcd-client": ["kube-apiserver"],
    "front-proxy-client": ["kube-apiserver"],
    "etcd-server": ["etcd"],
    "etcd-peer": ["etcd"],
    "etcd-healthcheck-client": [],
    "controller-manager.conf": ["kube-controller-manager"],
    "scheduler.conf": ["kube-scheduler"],
    "admin.conf": [],
    "super-admin.conf": [],
}
COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
CERT_FILES = {
    "apiserver": "pki/apiserver.crt",
    "apiserver-kubelet-client": "pki/apiserver-kubelet-client.crt",
    "apiserver-etcd-client": "pki/apiserver-etcd-client.crt",
    "front-proxy-client": "pki/front-proxy-client.crt",
    "etcd-server": "pki/etcd/server.crt",
    "etcd-peer": "pki/etcd/peer.crt",
    "etcd-healthcheck-client": "pki/etcd/healthcheck-client.crt",
    "controller-manager.conf": "controller-manager.conf",
    "scheduler.conf": "scheduler.conf",
    "admin.conf": "admin.conf",
    "super-admin.conf": "super-admin.conf",
}
START_SLACK = 2


class Failure(Exception):
    """A step failed; the message says which and what to look at."""


def log(message):
    print(message, flush=True)


def duration_argument(value):
    """Seconds in a duration such as 30d, 12h or 1w2d (--renew-before)."""
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise argparse.ArgumentTypeError("%s (write for example 30d): %r" % (exc, value)) from None


def expiry_of(item):
    value = item.get("expirationDate")
    if not value or item.get("missing") or value.startswith("0001-01-01"):
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def due_for_renewal(document, renew_before, now):
    """[(name, expiry)] of the certificates kubeadm can renew that expire within renew_before."""
    due = []
    for item in document.get("certificates") or []:
        expiry = expiry_of(item)
        if expiry is None or item.get("externallyManaged"):
            continue
        if (expiry - now).total_seconds() < renew_before:
            due.append((item["name"], expiry))
    return due


def components_to_restart(names):
    wanted = set()
    for name in names:
        wanted.update(USERS.get(name, COMPONENTS))
    return [c for c in COMPONENTS if c in wanted]


def running(component, proc=None):
    """Process ids of a kubeadm static-pod component (same rule as the module)."""
    proc = proc or PROC
    pids = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as handle:
                argv = handle.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) == component and any("/etc/kubernetes/" in a for a in argv[1:]):
            pids.append(int(entry))
    return sorted(pids)


def started(pid):
    """When a process started, in seconds since the epoch."""
    with open(os.path.join(PROC, "stat"), encoding="ascii") as handle:
        boot = int(re.search(r"^btime ([0-9]+)$", handle.read(), re.M).group(1))
    with open(os.path.join(PROC, str(pid), "stat"), encoding="utf-8", errors="replace") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def outdated():
    """Components whose process started before a certificate file it uses was
    written (a renewal whose restart did not happen)."""
    result = []
    for component in COMPONENTS:
        mtimes = [os.stat(os.path.join(ETC, CERT_FILES[name])).st_mtime
                  for name, users in USERS.items()
                  if component in users and os.path.exists(os.path.join(ETC, CERT_FILES[name]))]
        pids = running(component)
        try:
            if mtimes and pids and min(started(p) for p in pids) + START_SLACK < max(mtimes):
                result.append(component)
        except (OSError, ValueError, AttributeError, IndexError):
            continue
    return result


def wait_for(predicate, timeout, interval=2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def kubeadm(binary, *args):
    done = subprocess.run([binary] + list(args), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Failure("kubeadm %s failed (rc=%d): %s" % (" ".join(args[:3]), done.returncode,
                                                         (done.stderr or done.stdout).strip()[-2000:]))
    return done.stdout


def apiserver_live():
    port = 6443
    try:
        with open(APISERVER_MANIFEST, encoding="utf-8") as handle:
            found = re.search(r"--secure-port=([0-9]+)", handle.read())
        port = int(found.group(1)) if found else port
    except OSError:
        pass
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # a liveness probe, anonymous, sends nothing secret
    try:
        with urllib.request.urlopen("https://127.0.0.1:%d/livez" % port, context=context, timeout=5) as answer:
            return answer.status == 200
    except urllib.error.HTTPError as exc:
        return exc.code in (401, 403)
    except (OSError, ValueError):
        return False


def etcd_quorum(timeout=5):
    """(safe, members down): whether etcd keeps its quorum while this node's
    member restarts (same rule as the module)."""
    pki = os.path.join(ETC, "pki", "etcd")
    context = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    context.load_cert_chain(os.path.join(pki, "healthcheck-client.crt"), os.path.join(pki, "healthcheck-client.key"))

    def call(url, data=None):
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(request, context=context, timeout=timeout) as answer:
            return json.loads(answer.read())

    try:
        listing = call("https://127.0.0.1:2379/v3/cluster/member/list", data=b"{}")
    except (OSError, ValueError) as exc:
        raise Failure("cannot list the etcd members to check the quorum: %s (--skip-etcd-quorum-check only if the "
                      "certificates have already expired)" % exc)
    me = listing.get("header", {}).get("member_id")
    members = listing.get("members") or []
    if len(members) <= 1:
        return True, []
    healthy, down = 0, []
    for member in members:
        if member.get("ID") == me:
            continue
        ok = False
        for url in member.get("clientURLs") or []:
            try:
                ok = call(url.rstrip("/") + "/health").get("health") == "true"
            except (OSError, ValueError):
                ok = False
            if ok:
                break
        if ok:
            healthy += 1
        else:
            down.append(member.get("name") or member.get("ID"))
    return healthy >= len(members) // 2 + 1, down


def restart(components, timeout):
    for component in components:
        old = running(component)
        if not old:
            raise Failure("no %s process runs on this node; check the kubelet and the static pod manifests" % component)
        log("restarting %s (pid %s)" % (component, ", ".join(map(str, old))))
        for pid in old:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        fresh = wait_for(lambda: [p for p in running(component) if p not in old], timeout)
        if not fresh:
            raise Failure("%s did not run again within %d s; the certificates are renewed, check the kubelet's log"
                          % (component, timeout))
        log("%s runs again (pid %s)" % (component, ", ".join(map(str, fresh))))
    if components and not wait_for(apiserver_live, timeout):
        raise Failure("the local API server does not answer /livez within %d s" % timeout)


def run(args):
    now = datetime.datetime.now(datetime.timezone.utc)
    document = json.loads(kubeadm(args.kubeadm, "certs", "check-expiration", "-o", "json"))
    due = due_for_renewal(document, args.renew_before, now)
    for item in document.get("certificateAuthorities") or []:
        expiry = expiry_of(item)
        if expiry and (expiry - now).total_seconds() < args.renew_before:
            log("WARNING: certificate authority %s expires on %s; kubeadm cannot renew a CA" % (item["name"], expiry))
    pending = outdated()
    if not due and not pending:
        present = [(expiry_of(i), i["name"]) for i in document.get("certificates") or [] if expiry_of(i)]
        if present:
            expiry, name = min(present)
            log("nothing to renew: the first certificate to expire is %s on %s (%d days)"
                % (name, expiry.isoformat(), (expiry - now).days))
        else:
            log("nothing to renew: no kubeadm certificate on this node")
        return 0
    for name, expiry in due:
        log("%s %s (expires %s)" % ("would renew" if args.dry_run else "renewing", name, expiry.isoformat()))
    if pending:
        log("%s run with certificates older than the files on disk" % ", ".join(pending))
    if args.dry_run:
        wanted = set(components_to_restart([name for name, _expiry in due])) | set(pending)
        log("would restart: %s" % ", ".join(c for c in COMPONENTS if c in wanted))
        return 0
    if not args.skip_etcd_quorum_check and ("etcd" in components_to_restart([n for n, _e in due]) or "etcd" in pending):
        safe, down = etcd_quorum()
        if not safe:
            raise Failure("etcd would lose its quorum while the member of this node restarts: member(s) %s do not "
                          "answer healthy; nothing was renewed, the next run tries again" % ", ".join(down))
    for name, _expiry in due:
        kubeadm(args.kubeadm, "certs", "renew", name)
    wanted = set(components_to_restart([name for name, _expiry in due])) | set(outdated())
    restart([c for c in COMPONENTS if c in wanted], args.restart_timeout)
    after = json.loads(kubeadm(args.kubeadm, "certs", "check-expiration", "-o", "json"))
    names = set(name for name, _expiry in due)
    for item in after.get("certificates") or []:
        if item["name"] in names:
            log("renewed %s: now expires %s" % (item["name"], expiry_of(item).isoformat()))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--renew-before", type=duration_argument, default=duration_argument("30d"),
                        help="renew the certificates that expire within this duration (default 30d)")
    parser.add_argument("--kubeadm", default="/usr/local/bin/kubeadm", help="the kubeadm binary")
    parser.add_argument("--restart-timeout", type=int, default=300,
                        help="seconds to wait for each restarted component (default 300)")
    parser.add_argument("--skip-etcd-quorum-check", action="store_true",
                        help="restart etcd even if the other members cannot keep the quorum (expired certificates)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be renewed, change nothing")
    args = parser.parse_args(argv)
    with open(LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return run(args)
        except (Failure, ValueError) as exc:
            log("ERROR: %s" % exc)
            return 1


if __name__ == "__main__":
    sys.exit(main())
