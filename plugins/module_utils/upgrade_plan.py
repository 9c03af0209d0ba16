# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a Kubernetes upgrade from the versions a running cluster reports.

The versions come from the API: the kubelet version of every Node and the
image tags of the control-plane static pods on every control plane. The
rules are those of ``kubernetes_version.skew_problem``: forward only, one
minor version at a time; they apply to every component the cluster runs,
so a cluster left half-way by an interrupted upgrade can be finished.
"""

import re

from ansible_collections.normaldance.platform.plugins.module_utils import kubernetes_version

# "v1.36.5", "1.36.5", "v1.36.5+k3s1" or "v1.36.5-eks-1234": the X.Y.Z part counts.
_RUNNING = re.compile(r"v?((?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*))(?:[-+].*)?")


def running_version(text):
    """Return ``(major, minor, patch)`` of a version the cluster reports, such as ``v1.36.5``."""
    match = _RUNNING.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        raise kubernetes_version.VersionError("%r is not a Kubernetes version such as v1.36.5" % (text,))
    return kubernetes_version.parse_version(match.group(1))


def image_tag(image):
    """Return the tag of an image reference (``registry:5000/k8s/kube-apiserver:v1.36.5`` gives ``v1.36.5``)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def versions_from_resources(nodes, pods):
    """Return ``(control_planes, kubelets)`` from Node and Pod objects as the API returns them.

    ``control_planes`` maps a node to the lowest image tag of its
    kube-apiserver, kube-controller-manager and kube-scheduler static pods
    (label ``component``); nodes without them are not control planes.
    """
    kubelets = {}
    for node in nodes or []:
        name = (node.get("metadata") or {}).get("name")
        version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")
        if name:
            kubelets[name] = version or ""
    tags = {}
    for pod in pods or []:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        spec = pod.get("spec") or {}
        if labels.get("component") not in CONTROL_PLANE_COMPONENTS or not spec.get("nodeName"):
            continue
        for container in spec.get("containers") or []:
            tags.setdefault(spec["nodeName"], []).append(image_tag(container.get("image", "")))
    control_planes = {}
    for node, found in tags.items():
        try:
            control_planes[node] = "v" + show(min(running_version(tag) for tag in found))
        except kubernetes_version.VersionError:
            control_planes[node] = ",".join(found)
    return control_planes, kubelets


def show(version):
    return "%d.%d.%d" % version


def _next_minor_hint(current, target):
    if target[0] == current[0] and target[1] - current[1] > 1:
        return " Upgrade to %d.%d.x first, then to %s." % (current[0], current[1] + 1, show(target))
    return ""


def plan(target, control_planes, kubelets, variable="platform_kubernetes_version",
         cluster_configuration=None, expected_from=None, nodes=None, kube_proxy=None):
    """Compare what the cluster runs with ``target`` and say what is left to do.

    ``target`` is ``X.Y.Z``; ``control_planes`` maps a control-plane node to
    the version of its control-plane components (the lowest image tag of
    kube-apiserver, kube-controller-manager and kube-scheduler);
    ``kubelets`` maps every Node to its kubelet version;
    ``cluster_configuration`` is the kubernetesVersion of kubeadm's stored
    ClusterConfiguration; ``expected_from`` the optional
    ``platform_kubernetes_upgrade_from``; ``nodes`` the inventory's nodes,
    in the order they are upgraded (default: every Node); ``kube_proxy``
    the image tag of the kube-proxy DaemonSet (accepted, not used to decide:
    kubeadm upgrades the addons only once every control plane is upgraded).

    Returns a dict with ``problems`` (each a complete sentence naming the
    variable, the versions and the rule; empty when the upgrade may go on),
    ``current`` (the lowest version anything runs), ``target``,
    ``apply_done`` (kubeadm's ClusterConfiguration is at the target),
    ``pending`` (nodes of ``nodes`` not yet at the target, in order),
    ``done`` and ``nodes`` (per node: kubelet, control_plane, upgrade).
    """
    problems = []
    try:
        wanted = kubernetes_version.parse_version(target)
    except kubernetes_version.VersionError as exc:
        return {"problems": ["%s is %r: %s" % (variable, target, exc)], "target": target}

    observed = []  # (what, parsed)
    for node in sorted(control_planes):
        observed.append(("the control plane on %s" % node, control_planes[node]))
    for node in sorted(kubelets):
        observed.append(("the kubelet on %s" % node, kubelets[node]))
    if cluster_configuration:
        observed.append(("kubeadm's ClusterConfiguration", cluster_configuration))

    parsed = []
    for what, text in observed:
        try:
            parsed.append((what, running_version(text)))
        except kubernetes_version.VersionError as exc:
            problems.append("%s reports %s" % (what, exc))
    if problems:
        return {"problems": problems, "target": show(wanted)}
    if not parsed:
        return {"problems": ["the cluster reports no node and no control plane: is it running?"],
                "target": show(wanted)}

    current = min(version for _what, version in parsed)
    newer = [(what, version) for what, version in parsed if version > wanted]
    if newer:
        problems.append(
            "%s is %s but %s: a downgrade is not supported; upgrades go forward only. "
            "Set %s to %s or later." % (
                variable, show(wanted),
                ", ".join("%s runs %s" % (what, show(version)) for what, version in newer),
                variable, show(max(version for _what, version in newer))))
    else:
        behind = [(what, version) for what, version in parsed
                  if kubernetes_version.skew_problem(version, wanted)]
        if behind:
            reason = kubernetes_version.skew_problem(current, wanted)
            problems.append(
                "%s is %s but %s: %s; upgrades go forward one minor version at a time.%s" % (
                    variable, show(wanted),
                    ", ".join("%s runs %s" % (what, show(version)) for what, version in behind),
                    reason, _next_minor_hint(current, wanted)))

    if expected_from:
        try:
            declared = kubernetes_version.parse_version(expected_from)
        except kubernetes_version.VersionError as exc:
            problems.append("platform_kubernetes_upgrade_from is %r: %s" % (expected_from, exc))
        else:
            seen = set(version for _what, version in parsed) | set([wanted])
            if declared not in seen:
                problems.append(
                    "platform_kubernetes_upgrade_from is %s but the cluster runs %s: "
                    "correct platform_kubernetes_upgrade_from or remove it." % (
                        show(declared), ", ".join(sorted(show(version) for version in seen - set([wanted]))
                                                  or [show(wanted)])))

    order = list(nodes) if nodes is not None else sorted(set(kubelets) | set(control_planes))
    details = {}
    pending = []
    for node in order:
        kubelet = kubelets.get(node)
        control_plane = control_planes.get(node)
        missing = kubelet is None
        at_target = (not missing and running_version(kubelet) == wanted
                     and (control_plane is None or running_version(control_plane) == wanted))
        details[node] = {
            "kubelet": kubelet,
            "control_plane": control_plane,
            "upgrade": not at_target,
        }
        if missing:
            problems.append(
                "node %s of the inventory is not a node of the cluster: join it (cluster.yml) "
                "or remove it from the inventory before upgrading." % node)
        elif not at_target:
            pending.append(node)

    # kubeadm upgrade apply uploads the new ClusterConfiguration; it upgrades
    # the addons (kube-proxy, CoreDNS) only once every control plane runs the
    # target (otherwise the last `kubeadm upgrade node` on a control plane
    # does), so the kube-proxy version says nothing about the apply.
    apply_done = bool(cluster_configuration) and running_version(cluster_configuration) == wanted
    return {
        "problems": problems,
        "current": show(current),
        "target": show(wanted),
        "apply_done": apply_done,
        "pending": pending,
        "done": [node for node in order if node in details and not details[node]["upgrade"]],
        "nodes": details,
    }
