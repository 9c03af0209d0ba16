# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group layout: control planes, workers, stacked etcd and k8s_cluster."""

from ansible_collections.normaldance.platform.plugins.module_utils.profiles import MINIMUM_CONTROL_PLANES


def _count(hosts):
    return "%d host%s (%s)" % (len(hosts), "" if len(hosts) == 1 else "s", ", ".join(hosts)) if hosts else "no hosts"


def check_groups(view, environment):
    """Report control-plane counts and hosts that sit in the wrong groups."""
    problems = []
    control_planes = view.members("control_plane")
    workers = view.members("workers")
    etcd = view.members("etcd")
    cluster = view.members("k8s_cluster")
    if not control_planes or len(control_planes) % 2 == 0:
        problems.append(
            "group control_plane: %s; the number of control planes must be odd (1, 3, 5, ...) so that etcd keeps a quorum"
            % _count(control_planes)
        )
    minimum = MINIMUM_CONTROL_PLANES.get(environment, 1)
    if control_planes and len(control_planes) < minimum:
        problems.append(
            "group control_plane: %s; %s needs at least %d control planes" % (_count(control_planes), environment, minimum)
        )
    for host in view.hosts:
        in_cp = host in control_planes
        in_workers = host in workers
        in_etcd = host in etcd
        if in_cp and in_workers:
            problems.append(
                "host %s: in groups control_plane and workers; a host is either a control plane or a worker" % host
            )
        elif in_workers and in_etcd:
            problems.append(
                "host %s: in groups workers and etcd; etcd is stacked on the control planes, so a worker must not be in etcd"
                % host
            )
        elif in_etcd and not in_cp:
            problems.append(
                "host %s: in group etcd but not in control_plane; etcd is stacked: it may only contain control planes" % host
            )
        if in_cp and not in_etcd:
            problems.append(
                "host %s: in group control_plane but not in etcd; every control plane runs a stacked etcd member, so it must be in etcd"
                % host
            )
        if not in_cp and not in_workers:
            problems.append(
                "host %s: in neither control_plane nor workers; every host of the inventory must be a control plane or a worker"
                % host
            )
        elif host not in cluster:
            problems.append(
                "host %s: not in group k8s_cluster; k8s_cluster must have the children control_plane and workers" % host
            )
    return problems
