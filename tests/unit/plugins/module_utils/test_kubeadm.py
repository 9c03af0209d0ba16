"""module_utils.kubeadm: CA hash, redaction, drift, config rendering."""
from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.normaldance.platform.plugins.module_utils import kubeadm

FIXTURES = pathlib.Path(__file__).parents[1] / "modules" / "fixtures" / "kubeadm"


@pytest.mark.parametrize("cert", ["ca.crt", "ca-ec.crt"])
def test_spki_hash_matches_openssl(cert):
    expected = (FIXTURES / (cert + ".sha256")).read_text().strip()
    assert kubeadm.spki_sha256((FIXTURES / cert).read_text()) == "sha256:" + expected


def test_spki_hash_rejects_garbage():
    with pytest.raises(ValueError):
        kubeadm.spki_sha256("not a certificate")


@pytest.mark.parametrize("text,secrets,hidden", [
    ("join --token abcdef.0123456789abcdef now", (), "abcdef.0123456789abcdef"),
    ("key " + "a1" * 32, (), "a1" * 32),
    ("password hunter2 here", ("hunter2",), "hunter2"),
])
def test_redact(text, secrets, hidden):
    assert hidden not in kubeadm.redact(text, secrets)


DRIFT_CASES = [
    ("equal", {"a": 1}, {"a": 1, "b": 2}, []),
    ("changed-leaf", {"net": {"pod": "x"}}, {"net": {"pod": "y", "svc": "z"}}, [("net.pod", "y", "x")]),
    ("missing", {"a": {"b": 1}}, {}, [("a.b", None, 1)]),
    ("list-of-dicts", {"l": [{"n": 1}]}, {"l": [{"n": 2, "m": 0}]}, [("l[0].n", 2, 1)]),
    ("list-length", {"l": [{"n": 1}]}, {"l": []}, [("l", [], [{"n": 1}])]),
    ("scalar-list", {"s": ["a"]}, {"s": ["a", "b"]}, [("s", ["a", "b"], ["a"])]),
]


@pytest.mark.parametrize("case_id,desired,running,expected", DRIFT_CASES, ids=[c[0] for c in DRIFT_CASES])
def test_subset_drift(case_id, desired, running, expected):
    assert kubeadm.subset_drift(desired, running) == expected


def test_config_documents_rejects_bad_input():
    with pytest.raises(ValueError, match=r"config\[0\]"):
        kubeadm.config_documents([{"kind": "X"}])
    with pytest.raises(ValueError, match="two"):
        kubeadm.config_documents([{"apiVersion": "v", "kind": "X"}, {"apiVersion": "v", "kind": "X"}])


def test_render_config_is_a_yaml_stream_of_json():
    text = kubeadm.render_config([{"kind": "A", "apiVersion": "v"}, {"kind": "B", "apiVersion": "v"}])
    docs = [json.loads(part) for part in text.split("---\n") if part.strip()]
    assert [d["kind"] for d in docs] == ["A", "B"]


def test_strip_keys_leaves_input_untouched():
    doc = {"a": {"secret": 1, "keep": 2}, "top": 3}
    assert kubeadm.strip_keys(doc, ["a.secret", "top", "x.y"]) == {"a": {"keep": 2}}
    assert doc["a"]["secret"] == 1
