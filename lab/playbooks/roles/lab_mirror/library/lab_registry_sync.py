# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab-only module: load the image archives of the artifact manifest into the
lab registry, and report the artifacts the manifest lists but the cache lacks."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lab_registry_sync
short_description: Load the lab artifact images into the lab registry
description:
  - Reads C(manifest.json) written by the artifact builder of the lab.
  - Copies every image archive (oci-archive) to the lab registry with
    C(skopeo copy), unless the registry already serves that tag with the same
    manifest digest.
  - Reports the manifest itself, image archives and files that are missing,
    without failing, so that the lab comes up before all artifacts exist.
  - Image references keep their repository path and lose their registry host,
    so C(registry.k8s.io/coredns/coredns:v1.12.0) becomes
    C(<registry>/coredns/coredns:v1.12.0), unless the manifest entry names
    the repository to use (C(repository), C(mirror_repository)).
options:
  cache_dir:
    description: Lab cache directory; relative paths of the manifest start here.
    type: path
    required: true
  manifest:
    description: Path of the manifest; defaults to C(<cache_dir>/manifest.json).
    type: path
  registry:
    description: Registry address as C(host:port), plain HTTP.
    type: str
    required: true
  timeout:
    description: Seconds for one registry request.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

RETURN = r"""
images:
  description: One entry per image of the manifest.
  returned: always
  type: list
  elements: dict
  sample:
    - {ref: registry.k8s.io/pause:3.10, target: 10.210.0.5:5000/pause:3.10,
       digest: "sha256:...", action: loaded}
missing:
  description: Manifest, image archives or files that the cache does not hold.
  returned: always
  type: list
  elements: str
files:
  description: Number of files the manifest lists, and how many exist.
  returned: always
  type: dict
"""

import hashlib
import json
import os
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def _first(entry, *keys):
    for key in keys:
        if entry.get(key):
            return entry[key]
    return None


def _collect(data, key):
    """Entries under `key` at the top level and in every component."""
    found = data.get(key) or []
    if isinstance(found, dict):
        found = [{"ref": ref, "archive": archive} if key == "images" else {"path": ref, "sha256": archive}
                 for ref, archive in found.items()]
    found = list(found)
    components = data.get("components") or {}
    if isinstance(components, dict):
        components = components.values()
    for component in components:
        if isinstance(component, dict):
            found.extend(component.get(key) or [])
    return found


def image_entries(data):
    """Normalise the image list: [{'ref': ..., 'archive': ..., 'repository': ...}]."""
    images = _collect(data, "images")
    result = []
    for entry in images:
        if isinstance(entry, str):
            entry = {"ref": entry}
        result.append({
            "ref": _first(entry, "ref", "image", "name", "reference"),
            "archive": _first(entry, "archive", "path", "file", "oci_archive"),
            "repository": _first(entry, "mirror_repository", "repository"),
            "tag": _first(entry, "tag"),
        })
    return result


def file_entries(data):
    files = _collect(data, "files")
    result = []
    for entry in files:
        if isinstance(entry, str):
            entry = {"path": entry}
        result.append({"path": _first(entry, "path", "file", "name", "dest")})
    return result


def split_ref(ref):
    """'registry.k8s.io/coredns/coredns:v1.12.0' -> ('coredns/coredns', 'v1.12.0')."""
    name = ref.split("@", 1)[0]
    tag = "latest"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts), tag


def registry_digest(registry, repo, tag, timeout):
    request = urllib.request.Request(
        "http://%s/v2/%s/manifests/%s" % (registry, repo, tag),
        method="HEAD", headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cache_dir=dict(type="path", required=True),
            manifest=dict(type="path"),
            registry=dict(type="str", required=True),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    cache_dir = module.params["cache_dir"]
    manifest = module.params["manifest"] or os.path.join(cache_dir, "manifest.json")
    registry = module.params["registry"]
    result = dict(changed=False, images=[], missing=[], files=dict(listed=0, present=0))

    if not os.path.isfile(manifest):
        result["missing"].append(manifest)
        module.warn("artifact manifest %s does not exist yet: the registry stays empty "
                    "and the files mirror serves what %s/files holds" % (manifest, cache_dir))
        module.exit_json(**result)
    try:
        with open(manifest, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot read the artifact manifest %s: %s" % (manifest, exc), **result)

    for entry in file_entries(data):
        if not entry["path"]:
            continue
        result["files"]["listed"] += 1
        path = entry["path"] if os.path.isabs(entry["path"]) else os.path.join(cache_dir, entry["path"])
        if not os.path.exists(path) and not os.path.exists(os.path.join(cache_dir, "files", entry["path"])):
            result["missing"].append(path)
        else:
            result["files"]["present"] += 1

    skopeo = module.get_bin_path("skopeo", required=True)
    for entry in image_entries(data):
        ref, archive = entry["ref"], entry["archive"]
        if not ref or not archive:
            module.fail_json(msg="manifest %s: image entry without a reference or an archive: %r"
                             % (manifest, entry), **result)
        repo, tag = split_ref(ref)
        repo = entry["repository"] or repo
        tag = entry["tag"] or tag
        target = "%s/%s:%s" % (registry, repo, tag)
        item = dict(ref=ref, target=target, archive=archive)
        path = archive if os.path.isabs(archive) else os.path.join(cache_dir, archive)
        if not os.path.isfile(path):
            result["missing"].append(path)
            item["action"] = "missing"
            result["images"].append(item)
            continue
        rc, raw, err = module.run_command([skopeo, "inspect", "--raw", "oci-archive:" + path],
                                          binary_data=True, encoding=None)
        if rc != 0:
            module.fail_json(msg="skopeo cannot read %s: %s" % (path, err), **result)
        item["digest"] = "sha256:" + hashlib.sha256(raw).hexdigest()
        try:
            current = registry_digest(registry, repo, tag, module.params["timeout"])
        except (urllib.error.URLError, OSError) as exc:
            module.fail_json(msg="lab registry %s does not answer: %s" % (registry, exc), **result)
        if current == item["digest"]:
            item["action"] = "present"
        else:
            item["action"] = "loaded"
            result["changed"] = True
            if not module.check_mode:
                rc, out, err = module.run_command([
                    skopeo, "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests",
                    "oci-archive:" + path, "docker://" + target])
                if rc != 0:
                    module.fail_json(msg="skopeo copy %s -> %s failed: %s" % (path, target, err), **result)
        result["images"].append(item)

    for path in result["missing"]:
        module.warn("artifact missing: %s" % path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
