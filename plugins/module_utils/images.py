# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The images of the platform layer: the one list of what runs, at which version.

Each entry names the upstream image a site mirrors (``upstream``), its path
under the site's registry (``path``, the upstream path without the registry
host) and the pinned tag. A site sets ``platform_image_registry`` to its
registry (the lab: its own, where it pushes the images it builds) and may
pin each image to a digest with ``platform_image_digests`` (image name to
``sha256:<hex>``); a reference with a digest is what the nodes pull.
"""

import re

IMAGES = {
    "local-path-provisioner": {
        "upstream": "docker.io/rancher/local-path-provisioner",
        "path": "rancher/local-path-provisioner",
        "tag": "v0.0.30",
    },
    # The helper pods of local-path-provisioner create and remove the volume
    # directories with a shell script: upstream's default is busybox; any
    # small image with /bin/sh, mkdir and rm does (platform_storage_helper_image).
    "local-path-helper": {
        "upstream": "docker.io/library/busybox",
        "path": "library/busybox",
        "tag": "1.37",
    },
    # The resource metrics API (metrics.k8s.io) for the autoscalers and
    # kubectl top (platform_metrics).
    "metrics-server": {
        "upstream": "registry.k8s.io/metrics-server/metrics-server",
        "path": "metrics-server/metrics-server",
        "tag": "v0.8.0",
    },
    # Event-driven autoscaling (platform_autoscaling): the KEDA operator and
    # its external metrics API server; their CRDs are pinned in the role's
    # vars with the same release.
    "keda": {
        "upstream": "ghcr.io/kedacore/keda",
        "path": "kedacore/keda",
        "tag": "2.21.0",
    },
    "keda-metrics-apiserver": {
        "upstream": "ghcr.io/kedacore/keda-metrics-apiserver",
        "path": "kedacore/keda-metrics-apiserver",
        "tag": "2.21.0",
    },
    # The ingress controller (platform_ingress); its CRDs are pinned in the
    # role's vars with the same release.
    "traefik": {
        "upstream": "docker.io/library/traefik",
        "path": "library/traefik",
        "tag": "v3.7.13",
    },
    # The pods that hold the ingress address run keepalived, with curl for
    # the health check of Traefik and iproute2. There is no upstream image:
    # a site builds it from its distribution's packages (the lab: Debian
    # bookworm's keepalived 2.2.7, curl and iproute2; lab/artifacts).
    "keepalived": {
        "upstream": "registry.normaldance.lab/normaldance/keepalived",
        "path": "normaldance/keepalived",
        "tag": "2.2.7-bookworm-1",
    },
}

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class ImageError(ValueError):
    """An unknown image or a malformed digest."""


def image_reference(name, registry=None, digests=None):
    """Return the reference the nodes pull for the image ``name``.

    ``registry`` replaces the upstream registry host (None or "" keeps the
    upstream reference); ``digests`` maps image names to pinned digests.
    """
    if name not in IMAGES:
        raise ImageError("unknown image %r; the collection's images are %s" % (name, ", ".join(sorted(IMAGES))))
    spec = IMAGES[name]
    base = "%s/%s" % (registry.rstrip("/"), spec["path"]) if registry else spec["upstream"]
    ref = "%s:%s" % (base, spec["tag"])
    digest = (digests or {}).get(name)
    if digest:
        if not DIGEST.match(str(digest)):
            raise ImageError("platform_image_digests[%r] is %r; a digest is sha256: followed by 64 lower-case hex digits"
                             % (name, digest))
        ref = "%s@%s" % (ref, digest)
    return ref
