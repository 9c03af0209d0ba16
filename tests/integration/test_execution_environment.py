"""The execution environment definition is valid for ansible-builder v3.

`ansible-builder create` renders the build context without building an
image (no registry is needed). The rendered Containerfile must install the
collection's dependencies and the collection tarball itself.
"""
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def test_execution_environment_renders(tmp_path):
    dist = ROOT / "build" / "dist"
    if not list(dist.glob("normaldance-platform-*.tar.gz")):
        subprocess.run([str(ROOT / "tools" / "build-collection.sh")], check=True, cwd=ROOT)
    ctx = tmp_path / "context"
    subprocess.run(
        [str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", str(ctx)],
        check=True, cwd=ROOT, capture_output=True, text=True,
    )
    containerfile = (ctx / "Containerfile").read_text()
    assert "ansible-galaxy collection install --offline --no-deps" in containerfile
    assert list((ctx / "_build" / "collection").glob("normaldance-platform-*.tar.gz"))
    reqs = (ctx / "_build" / "requirements.yml").read_text()
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    for dependency in galaxy["dependencies"]:
        assert dependency in reqs, f"{dependency} from galaxy.yml is missing in the execution environment"
