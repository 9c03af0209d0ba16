"""Write a one-layer OCI image archive built from executables of this host.

    make-oci-image.py OUT.tar IMAGE_NAME ENTRYPOINT_JSON EXECUTABLE...

Each executable and the shared libraries `ldd` lists for it are copied into
the layer at the same paths; /bin/sh points at the first executable. The
archive carries io.containerd.image.name, so `ctr images import` tags it.
Used by the Molecule tests to run containers without reaching a registry.
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def libraries(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        for word in line.split():
            if word.startswith("/"):
                yield word


def layer_bytes(executables):
    paths = []
    for exe in executables:
        for p in [exe, *libraries(exe)]:
            if p not in paths:
                paths.append(p)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for p in paths:
            real = os.path.realpath(p)
            parts = p.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
            with open(real, "rb") as f:
                data = f.read()
            info = tarfile.TarInfo(p.lstrip("/"))
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
        for d in ("bin", "tmp", "proc", "sys", "dev", "etc"):
            if d not in dirs:
                info = tarfile.TarInfo(d)
                info.type = tarfile.DIRTYPE
                info.mode = 0o1777 if d == "tmp" else 0o755
                tar.addfile(info)
        link = tarfile.TarInfo("bin/sh")
        link.type = tarfile.SYMTYPE
        link.linkname = executables[0]
        tar.addfile(link)
    return buf.getvalue()


def blob(tar, data):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main():
    out, name, entrypoint, *executables = sys.argv[1:]
    layer = layer_bytes(executables)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": json.loads(entrypoint), "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }).encode()
    with tarfile.open(out, "w") as tar:
        layer_desc = blob(tar, layer)
        config_desc = blob(tar, config)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_desc}],
        }).encode()
        manifest_desc = blob(tar, manifest)
        index = json.dumps({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
                "annotations": {"io.containerd.image.name": name,
                                "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]},
            }],
        }).encode()
        for fname, data in (("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index)):
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
