"""kubeadm_token: reuse, create, check mode, delete; the token never leaks into errors."""
from __future__ import annotations

import pytest

from ansible_collections.normaldance.platform.plugins.modules import kubeadm_token
from ansible_collections.normaldance.platform.tests.unit.plugins.modules.kubeadm_helpers import (
    FIXTURES,
    fixture_text,
    run_module,
)

CA_HASH = "sha256:" + fixture_text("ca.crt.sha256").strip()
NEW = "newtok.fedcba9876543210"
NEW_LIST = (
    '{"token": "%s", "description": "normaldance.platform join", "expires": "2031-01-01T00:00:00Z"}' % NEW
)


def args(**extra):
    base = dict(ca_cert=str(FIXTURES / "ca.crt"))
    base.update(extra)
    return base


def test_parse_token_list_reads_a_stream_of_objects():
    tokens = kubeadm_token.parse_token_list(fixture_text("token-list.json"))
    assert [t["token"].split(".")[0] for t in tokens] == ["abcdef", "zzzzzz", "qqqqqq"]
    assert kubeadm_token.parse_token_list("") == []


CASES = [
    # id, existing list, check mode, expected changed, expected token, commands that must run
    ("reuse-valid", fixture_text("token-list.json"), False, False, "abcdef.0123456789abcdef", ["list"]),
    ("create-when-none", "", False, True, NEW, ["list", "create", "list"]),
    ("check-mode-predicts-create", "", True, True, None, ["list"]),
    ("check-mode-reuse", fixture_text("token-list.json"), True, False, "abcdef.0123456789abcdef", ["list"]),
]


@pytest.mark.parametrize("case_id,existing,check,changed,token,verbs", CASES, ids=[c[0] for c in CASES])
def test_present(monkeypatch, case_id, existing, check, changed, token, verbs):
    listed = {"n": 0}

    def token_list(_argv):
        listed["n"] += 1
        return 0, (existing if listed["n"] == 1 else NEW_LIST), ""

    script = [
        (("kubeadm", "token", "list"), token_list),
        (("kubeadm", "token", "create"), (0, NEW + "\n", "")),
    ]
    result, failed, commands = run_module(monkeypatch, kubeadm_token.main, args(), script, check_mode=check)
    assert not failed, result
    assert result["changed"] is changed
    assert result["token"] == token
    assert result["discovery_token_ca_cert_hash"] == CA_HASH
    assert [c[2] for c in commands.calls] == verbs


def test_expired_token_is_not_reused(monkeypatch):
    only_expired = '{"token": "zzzzzz.0123456789zzzzzz", "description": "normaldance.platform join", ' \
                   '"expires": "2020-01-01T00:00:00Z"}'
    seq = iter([only_expired, NEW_LIST])
    script = [
        (("kubeadm", "token", "list"), lambda argv: (0, next(seq), "")),
        (("kubeadm", "token", "create"), (0, NEW + "\n", "")),
    ]
    result, failed, _commands = run_module(monkeypatch, kubeadm_token.main, args(), script)
    assert not failed
    assert result["changed"] and result["token"] == NEW
    assert result["expires"] == "2031-01-01T00:00:00Z"


def test_absent_deletes_only_our_tokens(monkeypatch):
    script = [
        (("kubeadm", "token", "list"), (0, fixture_text("token-list.json"), "")),
        (("kubeadm", "token", "delete"), (0, "deleted\n", "")),
    ]
    result, failed, commands = run_module(monkeypatch, kubeadm_token.main, args(state="absent"), script)
    assert not failed
    assert result["changed"] and result["deleted"] == ["abcdef", "zzzzzz"]
    assert commands.calls[-1][3:5] == ["abcdef", "zzzzzz"]


def test_absent_check_mode_deletes_nothing(monkeypatch):
    script = [(("kubeadm", "token", "list"), (0, fixture_text("token-list.json"), ""))]
    result, failed, commands = run_module(monkeypatch, kubeadm_token.main, args(state="absent"), script, check_mode=True)
    assert not failed and result["changed"]
    assert len(commands.calls) == 1


def test_failure_message_hides_the_token(monkeypatch):
    script = [
        (("kubeadm", "token", "list"), (0, "", "")),
        (("kubeadm", "token", "create"), (1, "", "error: token %s rejected" % NEW)),
    ]
    result, failed, _commands = run_module(monkeypatch, kubeadm_token.main, args(), script)
    assert failed
    assert NEW not in result["msg"] and "fedcba9876543210" not in result["msg"]
    assert "rejected" in result["msg"]


def test_missing_ca_is_a_clear_error(monkeypatch):
    script = [(("kubeadm", "token", "list"), (0, "", ""))]
    result, failed, _commands = run_module(monkeypatch, kubeadm_token.main, args(ca_cert="/nonexistent/ca.crt"), script)
    assert failed and "/nonexistent/ca.crt" in result["msg"]
