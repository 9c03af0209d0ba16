#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubeadm_certs
short_description: Report the expiry of the kubeadm certificates of a control plane and renew them before they expire
version_added: 0.2.0
description:
  - Runs on a control-plane node initialised by kubeadm. Reads the expiry of every certificate kubeadm manages
    (the serving and client certificates of the control plane, the client certificates embedded in
    C(admin.conf), C(super-admin.conf), C(controller-manager.conf) and C(scheduler.conf)) and of the certificate
    authorities, with C(kubeadm certs check-expiration -o json). No certificate or key file is read and no key
    material is ever returned.
  - With O(state=present), renews with C(kubeadm certs renew <name>) every certificate whose residual time is
    below O(renew_before) (all of them with O(force=true)), then restarts the static-pod containers that hold the
    old certificates in memory, one component at a time, and waits for each to run again.
  - A component is restarted by sending C(SIGTERM) to its process (found in C(/proc) by its name and its use of
    C(/etc/kubernetes)); the container exits and the kubelet starts a new one in the same static pod at once,
    which reads the renewed files (the pod's restart count goes up by one). This needs neither C(crictl) (optional
    in this collection) nor a change on disk. Moving the manifests out of C(/etc/kubernetes/manifests) and back,
    the other usual way, waits twice for the kubelet's file check period (20 s) per component and leaves a
    control plane without its manifests when a run is interrupted half-way.
  - Certificate authorities cannot be renewed by kubeadm; one that expires within O(renew_before) is reported with
    a warning. Externally managed certificates (their CA key is not on the node) and missing ones are reported
    and never renewed.
  - A component that still runs with an older certificate than the file on disk (its process started before the file
    was written, for example after a run that stopped before its restarts, or a C(kubeadm certs renew) by hand) is
    restarted too with O(state=present), so that running the task again finishes an interrupted renewal.
  - With O(state=query), only reports; the result is never changed.
  - Runs are serialised with the lock file C(/run/lock/normaldance-kubeadm-certs.lock), which the renewal timer
    installed by the role C(normaldance.platform.cluster_certificates) takes too.
author:
  - NORMALDANCE platform maintainers (@normaldance)
attributes:
  check_mode:
    support: full
    details: In check mode nothing is renewed or restarted; the result lists what would be renewed and restarted.
  platform:
    platforms: posix
  diff_mode:
    support: full
    details: Shows the expiry of each certificate renewed (or that would be) before and after.
options:
  state:
    description:
      - V(present) renews the certificates that expire within O(renew_before); V(query) only reports.
    type: str
    choices: [present, query]
    default: present
  renew_before:
    description:
      - A certificate whose residual time is below this duration is renewed. One or more C(<integer><unit>)
        parts with the units C(s), C(m), C(h), C(d), C(w), for example V(30d) or V(1w2d).
    type: str
    default: 30d
  force:
    description: Renew every certificate kubeadm can renew, whatever its residual time (with O(state=present)).
    type: bool
    default: false
  restart:
    description:
      - Restart the control-plane components that use a renewed certificate (C(etcd), C(kube-apiserver),
        C(kube-controller-manager), C(kube-scheduler)). Without it, the components keep serving and using the old
        certificates until they restart.
    type: bool
    default: true
  check_etcd_quorum:
    description:
      - Before anything is renewed, when etcd will have to restart, check that the other etcd members are healthy
        enough to keep the quorum while this node's member restarts (for example, refuse on one of three control
        planes while another is down). Single-member clusters always pass.
      - Set to V(false) only to repair a cluster whose certificates have already expired, where etcd members cannot
        reach each other anyway.
    type: bool
    default: true
  restart_timeout:
    description: Seconds to wait for each restarted component to run again (and for the local API server to answer).
    type: int
    default: 300
  config:
    description:
      - A kubeadm configuration file passed to kubeadm with C(--config). Only needed when the certificates are not
        in the default C(/etc/kubernetes/pki); by default kubeadm reads the cluster's configuration.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - normaldance.platform.kubeadm
notes:
  - The O(kubectl_path) option of the shared kubeadm options is accepted and not used.
  - On a highly available control plane, run it on one node at a time (task keyword C(throttle) or play keyword C(serial)) so that the
    API stays available while a node's components restart.
  - The copy of C(admin.conf) that was exported to the controller keeps working until its own certificate expires;
    renewed kubeconfigs are not copied anywhere by this module.
"""

EXAMPLES = r"""
- name: Report certificate expiry (changes nothing)
  normaldance.platform.kubeadm_certs:
    state: query
  register: certs

- name: Renew the certificates that expire within 30 days, one control plane at a time
  normaldance.platform.kubeadm_certs:
    renew_before: 30d
  throttle: 1

- name: Renew every certificate now
  normaldance.platform.kubeadm_certs:
    force: true
  throttle: 1
"""

RETURN = r"""
certificates:
  description: Every certificate kubeadm manages on the node, in kubeadm's order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: kubeadm's name of the certificate (the argument of C(kubeadm certs renew)).
      type: str
      sample: apiserver
    expiry:
      description: Expiry (notAfter) in ISO 8601, UTC, after the task; null for a missing certificate.
      type: str
      sample: "2027-05-04T10:11:12+00:00"
    residual_days:
      description: Whole days left before the expiry, after the task (negative once expired).
      type: int
      sample: 364
    ca:
      description: Name of the CA that signed it.
      type: str
      sample: ca
    externally_managed:
      description: Whether the CA key is not on the node, so that kubeadm cannot renew the certificate.
      type: bool
    missing:
      description: Whether the certificate file (or kubeconfig) is missing.
      type: bool
    renewed:
      description: Whether the task renewed the certificate (or would have, in check mode).
      type: bool
certificate_authorities:
  description: The certificate authorities (never renewed by this module).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the CA.
      type: str
      sample: etcd-ca
    expiry:
      description: Expiry in ISO 8601, UTC.
      type: str
    residual_days:
      description: Whole days left.
      type: int
    externally_managed:
      description: Whether the CA key is not on the node.
      type: bool
    missing:
      description: Whether the CA certificate is missing.
      type: bool
renewed:
  description: Names of the certificates renewed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [admin.conf, apiserver]
restarted:
  description: Control-plane components restarted (or that would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [kube-apiserver]
restart_pending:
  description:
    - Components that run with a certificate older than the file on disk (their process started before the file was
      written), after the task. Empty after a successful O(state=present) run with O(restart=true); in check mode and
      with O(state=query), what a run would restart besides the components of renewed certificates.
  returned: always
  type: list
  elements: str
  sample: []
earliest_expiry:
  description: The certificate (not CA) that expires first after the task, with its expiry and residual days.
  returned: when the node has at least one certificate
  type: dict
  sample: {"name": "apiserver", "expiry": "2027-05-04T10:11:12+00:00", "residual_days": 364}
"""

import datetime
import fcntl
import json
import os
import re
import signal
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.normaldance.platform.plugins.module_utils.duration import DurationError, parse_duration
from ansible_collections.normaldance.platform.plugins.module_utils.kubeadm import (
    APISERVER_MANIFEST,
    KUBEADM_ARGSPEC,
    KUBERNETES_DIR,
    find_binary,
    run,
)

LOCK_FILE = "/run/lock/normaldance-kubeadm-certs.lock"
PROC = "/proc"
ETC = KUBERNETES_DIR
OUTPUT_KIND = "CertificateExpirationInfo"

# The static-pod components that hold each certificate in memory. The
# kubeconfigs of administrators are only read by clients. The etcd
# health-check client is used by etcdctl, not by a running component.
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
# kubeadm writes super-admin.conf only on the node where init ran.
ONLY_ON_FIRST = {"super-admin.conf"}
# etcd first: the API server depends on it; the API server before the
# components that talk to it.
COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
# Where kubeadm keeps each certificate (under /etc/kubernetes): a component
# whose process started before one of its files was last written still
# holds the old certificate.
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
# Clock ticks and whole-second boot time make process start times a little
# imprecise; a file written less than this long after the start is not
# counted as newer.
START_SLACK = 2


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(value):
    """An RFC 3339 time from kubeadm as an aware datetime; None when unset."""
    if not value or value.startswith("0001-01-01"):
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)


def describe(item, now):
    """One entry of kubeadm's list as this module returns it."""
    expiry = parse_time(item.get("expirationDate"))
    missing = bool(item.get("missing")) or expiry is None
    return dict(
        name=item["name"],
        expiry=expiry.isoformat() if expiry else None,
        residual_seconds=int((expiry - now).total_seconds()) if expiry else None,
        externally_managed=bool(item.get("externallyManaged")),
        missing=missing,
        ca=item.get("caName") or None,
    )


def residual_days(seconds):
    return None if seconds is None else int(seconds // 86400)


def parse_expiration(text, now):
    """Parse `kubeadm certs check-expiration -o json` into (certificates, authorities)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError("kubeadm certs check-expiration did not print JSON: %s" % exc)
    if not isinstance(data, dict) or data.get("kind") != OUTPUT_KIND:
        raise ValueError("kubeadm certs check-expiration printed no %s document" % OUTPUT_KIND)
    certs = [describe(item, now) for item in data.get("certificates") or []]
    cas = [describe(item, now) for item in data.get("certificateAuthorities") or []]
    return certs, cas


def due_for_renewal(certs, renew_before, force):
    """Names of the certificates to renew: kubeadm must be able to (CA key
    present, certificate present), and the residual time is short or force."""
    return [
        c["name"] for c in certs
        if not c["externally_managed"] and not c["missing"]
        and (force or c["residual_seconds"] < renew_before)
    ]


def components_to_restart(names):
    """Components using any of the certificates, in restart order; an unknown
    certificate name restarts them all."""
    wanted = set()
    for name in names:
        wanted.update(USERS.get(name, COMPONENTS))
    return [c for c in COMPONENTS if c in wanted]


def public(entry, renewed=None):
    """The returned form of an entry (residual in whole days)."""
    result = dict((k, v) for k, v in entry.items() if k != "residual_seconds")
    result["residual_days"] = residual_days(entry["residual_seconds"])
    if renewed is not None:
        result["renewed"] = renewed
    else:
        result.pop("ca", None)
    return result


class Node:
    """What the module does on the node: kubeadm, and the processes of the
    control-plane components."""

    def __init__(self, module, kubeadm, proc=None):
        self.module = module
        self.kubeadm = kubeadm
        self.proc = proc or PROC
        config = module.params["config"]
        self.config = ["--config", config] if config else []

    def expiration(self):
        _rc, out, _err = run(self.module, [self.kubeadm, "certs", "check-expiration", "-o", "json"] + self.config)
        return out

    def renew(self, name):
        run(self.module, [self.kubeadm, "certs", "renew", name] + self.config)

    def running(self, component):
        """Process ids of a kubeadm static-pod component: the program's name
        is the component's and it reads files under /etc/kubernetes."""
        pids = []
        for entry in os.listdir(self.proc):
            if not entry.isdigit():
                continue
            try:
                with open(os.path.join(self.proc, entry, "cmdline"), "rb") as handle:
                    argv = handle.read().decode("utf-8", "replace").split("\0")
            except OSError:  # the process ended meanwhile
                continue
            if os.path.basename(argv[0]) == component and any("/etc/kubernetes/" in a for a in argv[1:]):
                pids.append(int(entry))
        return sorted(pids)

    def started(self, pid):
        """When a process started, in seconds since the epoch."""
        with open(os.path.join(self.proc, "stat"), encoding="ascii") as handle:
            boot = int(re.search(r"^btime ([0-9]+)$", handle.read(), re.M).group(1))
        with open(os.path.join(self.proc, str(pid), "stat"), encoding="utf-8", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")

    def outdated(self):
        """Components running with an older certificate than the one on disk:
        a process started before a certificate file it uses was written."""
        result = []
        for component in COMPONENTS:
            mtimes = []
            for name, users in USERS.items():
                path = os.path.join(ETC, CERT_FILES[name])
                if component in users and os.path.exists(path):
                    mtimes.append(os.stat(path).st_mtime)
            pids = self.running(component)
            try:
                if mtimes and pids and min(self.started(p) for p in pids) + START_SLACK < max(mtimes):
                    result.append(component)
            except (OSError, ValueError, AttributeError, IndexError):  # the process ended meanwhile
                continue
        return result

    def stop(self, pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def apiserver_port():
    """The local API server's --secure-port (6443 unless the manifest says otherwise)."""
    try:
        with open(APISERVER_MANIFEST, encoding="utf-8") as handle:
            found = re.search(r"--secure-port=([0-9]+)", handle.read())
    except OSError:
        found = None
    return int(found.group(1)) if found else 6443


def apiserver_live(port):
    """Whether the local API server answers /livez over TLS. Only liveness is
    asked, anonymously; a 401/403 still proves it serves."""
    try:
        response = open_url("https://127.0.0.1:%d/livez" % port, validate_certs=False, timeout=5)
        return response.getcode() == 200
    except Exception as exc:  # urllib errors, TLS errors, refused connections
        return getattr(exc, "code", None) in (401, 403)


def etcd_quorum(module, timeout=5):
    """Whether etcd keeps its quorum while the member of this node restarts,
    and the members that do not answer healthy. Asks the local member for the
    member list and each other member for /health, with the health-check
    client certificate kubeadm made for that purpose."""
    pki = os.path.join(ETC, "pki", "etcd")
    tls = dict(ca_path=os.path.join(pki, "ca.crt"), client_cert=os.path.join(pki, "healthcheck-client.crt"),
               client_key=os.path.join(pki, "healthcheck-client.key"), timeout=timeout)

    def call(url, data=None):
        answer = open_url(url, data=data, method="POST" if data else "GET", **tls)
        return json.loads(answer.read())

    try:
        listing = call("https://127.0.0.1:2379/v3/cluster/member/list", data=b"{}")
    except Exception as exc:  # refused, TLS, HTTP or JSON errors alike
        module.fail_json(msg="cannot list the etcd members from the local member to check the quorum before a "
                             "restart: %s; set check_etcd_quorum=false only if the certificates have already expired"
                             % exc)
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
            except Exception:  # an unreachable member is what this looks for
                ok = False
            if ok:
                break
        if ok:
            healthy += 1
        else:
            down.append(member.get("name") or member.get("ID"))
    return healthy >= len(members) // 2 + 1, down


def wait_for(predicate, timeout, interval=2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def restart(module, node, components, timeout):
    """Stop each component's process and wait until the kubelet runs a new one."""
    for component in components:
        old = node.running(component)
        if not old:
            module.fail_json(msg="no %s process runs on this node: it cannot be restarted to load the renewed "
                                 "certificates; check the kubelet and the static pod manifests" % component)
        for pid in old:
            node.stop(pid)
        fresh = wait_for(lambda: [p for p in node.running(component) if p not in old], timeout)
        if not fresh:
            module.fail_json(msg="%s did not run again within %d s after it was stopped; the certificates are "
                                 "renewed, check the kubelet's log" % (component, timeout))
    if components and not wait_for(lambda: apiserver_live(apiserver_port()), timeout):
        module.fail_json(msg="the local API server does not answer /livez within %d s after the restart" % timeout)


def diff_text(entries, names):
    return "".join("%s: %s\n" % (e["name"], e["expiry"]) for e in entries if e["name"] in names)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "query"], default="present"),
        renew_before=dict(type="str", default="30d"),
        force=dict(type="bool", default=False),
        restart=dict(type="bool", default=True),
        restart_timeout=dict(type="int", default=300),
        check_etcd_quorum=dict(type="bool", default=True),
        config=dict(type="path"),
    )
    argument_spec.update(KUBEADM_ARGSPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        renew_before = parse_duration(params["renew_before"])
    except DurationError as exc:
        module.fail_json(msg="renew_before %r: %s (write for example 30d or 2w)" % (params["renew_before"], exc))

    kubeadm = find_binary(module, "kubeadm", params["kubeadm_path"])
    acting = params["state"] == "present" and not module.check_mode
    node = Node(module, kubeadm)

    def read():
        try:
            return parse_expiration(node.expiration(), utcnow())
        except ValueError as exc:
            module.fail_json(msg=str(exc))

    lock = None
    if acting:
        try:
            lock = open(LOCK_FILE, "a")
        except OSError as exc:
            module.fail_json(msg="cannot open the lock file %s: %s" % (LOCK_FILE, exc))
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        certs, cas = read()
        due = due_for_renewal(certs, renew_before, params["force"]) if params["state"] == "present" else []
        before = certs
        if acting and params["restart"] and params["check_etcd_quorum"] and (
                "etcd" in components_to_restart(due) or "etcd" in node.outdated()):
            safe, down = etcd_quorum(module)
            if not safe:
                module.fail_json(msg="etcd would lose its quorum while the member of this node restarts: member(s) "
                                     "%s do not answer healthy. Nothing was renewed; renew when every control plane "
                                     "is up." % ", ".join(down))
        if due and acting:
            for name in due:
                node.renew(name)
            certs, cas = read()
        # What uses a renewed certificate, and what still runs with an old one
        # (a run that stopped before its restarts, a renewal by hand): both
        # are restarted, so that running the task again finishes the work.
        outdated = node.outdated()
        components = []
        if params["state"] == "present" and params["restart"]:
            wanted = set(components_to_restart(due)) | set(outdated)
            components = [c for c in COMPONENTS if c in wanted]
        if components and acting:
            restart(module, node, components, params["restart_timeout"])
            outdated = node.outdated()
    finally:
        if lock:
            lock.close()

    if outdated and not module.check_mode:
        module.warn("%s still run with certificates older than the files on disk; run with state=present and "
                    "restart=true to restart them" % ", ".join(outdated))

    for ca in cas:
        if not ca["missing"] and ca["residual_seconds"] < renew_before:
            module.warn("certificate authority %s expires on %s; kubeadm cannot renew a CA, plan its replacement"
                        % (ca["name"], ca["expiry"]))
    missing = [c["name"] for c in certs if c["missing"] and c["name"] not in ONLY_ON_FIRST]
    if missing and len(missing) < len(certs):
        module.warn("certificates missing on this node: %s" % ", ".join(missing))
    for cert in certs:
        if cert["missing"]:
            continue
        if cert["name"] not in due and cert["residual_seconds"] < renew_before:
            if cert["externally_managed"]:
                module.warn("certificate %s expires on %s and is externally managed: renew it outside kubeadm"
                            % (cert["name"], cert["expiry"]))
            else:
                module.warn("certificate %s expires on %s, within renew_before %s"
                            % (cert["name"], cert["expiry"], params["renew_before"]))

    result = dict(
        changed=bool(due or components),
        certificates=[public(c, c["name"] in due) for c in certs],
        certificate_authorities=[public(c) for c in cas],
        renewed=due,
        restarted=components,
        restart_pending=outdated,
    )
    present = [c for c in certs if not c["missing"]]
    if present:
        first = min(present, key=lambda c: c["residual_seconds"])
        result["earliest_expiry"] = dict(name=first["name"], expiry=first["expiry"],
                                         residual_days=residual_days(first["residual_seconds"]))
    if module._diff and due:
        result["diff"] = dict(
            before_header="certificate expiry before renewal",
            after_header="certificate expiry after renewal",
            before=diff_text(before, due),
            after=diff_text(certs, due) if acting else "".join("%s: (renewed)\n" % n for n in due),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
