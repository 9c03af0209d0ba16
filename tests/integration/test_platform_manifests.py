"""The manifests of the platform roles against the Kubernetes OpenAPI schemas.

Every template of a platform role (roles/platform_*/templates/*.yaml.j2) is
rendered by ansible-playbook with the role's defaults, for each environment,
and every object in it is validated (strictly: unknown fields are errors)
with kubernetes-validate against each Kubernetes minor the collection
supports. A new platform role's templates are picked up without changes here.
"""
import json
import os
import pathlib
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent / "platform_manifests"
_NEXT_TO_PYTHON = pathlib.Path(sys.executable).parent / "ansible-playbook"
ANSIBLE_PLAYBOOK = str(_NEXT_TO_PYTHON) if _NEXT_TO_PYTHON.exists() else "ansible-playbook"
ENVIRONMENTS = ("lab", "development", "staging", "production")
# The Kubernetes minors the collection deploys (lab/artifacts/versions.yml).
KUBERNETES = ("1.35", "1.36")
# Custom resources: kubernetes-validate has no schema for them; the API
# server checks them against their CRD when the role applies them on the lab.
CUSTOM_GROUPS = ("traefik.io/",)
ROLES = sorted({path.parent.parent.name for path in ROOT.glob("roles/platform_*/templates/*.yaml.j2")})


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("manifests-" + request.param)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    result = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", "localhost,", str(HERE / "render.yml"),
         "-e", "platform_environment=" + request.param,
         "-e", "roles_dir=" + str(ROOT / "roles"), "-e", "render_dir=" + str(out),
         "-e", json.dumps({"platform_roles": ROLES})],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:]
    files = sorted(out.iterdir())
    return request.param, {path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc] for path in files}


def test_every_platform_role_renders(rendered):
    _environment, files = rendered
    assert {name.split("--")[0] for name in files} == set(ROLES)
    assert all(files.values()), "a template rendered no object"


@pytest.mark.parametrize("version", KUBERNETES)
def test_manifests_match_the_schema(rendered, version):
    environment, files = rendered
    errors = []
    for name, docs in files.items():
        for doc in docs:
            if doc.get("apiVersion", "").startswith(CUSTOM_GROUPS):
                continue
            meta = doc.get("metadata", {})
            what = "%s %s/%s (%s, Kubernetes %s)" % (name, doc.get("kind"), meta.get("name"), environment, version)
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                errors.append("%s: %s" % (what, exc.message))
    assert not errors, "\n".join(errors)


def test_objects_are_unique(rendered):
    _environment, files = rendered
    seen = {}
    for name, docs in files.items():
        for doc in docs:
            key = (doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"])
            assert key not in seen, "%s in %s and %s" % (key, seen[key], name)
            seen[key] = name
