"""Shared harness for the kubeadm_* module tests: runs a module's main()
with arguments, a scripted run_command and a temporary /etc/kubernetes."""
from __future__ import annotations

import json
import pathlib

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "kubeadm"


class ModuleExit(Exception):
    """exit_json or fail_json was called."""

    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


def fixture_text(name):
    return (FIXTURES / name).read_text()


class FakeCommands:
    """Scripted run_command: maps an argv prefix (tuple) to (rc, out, err); records calls (and their stdin)."""

    def __init__(self, script):
        self.script = script
        self.calls = []
        self.stdin = []

    def __call__(self, module, argv, **kwargs):
        self.calls.append(list(argv))
        self.stdin.append(kwargs.get("data"))
        words = [pathlib.Path(argv[0]).name] + list(argv[1:])
        for prefix, answer in self.script:
            if tuple(words[:len(prefix)]) == tuple(prefix):
                return answer(argv) if callable(answer) else answer
        raise AssertionError("unexpected command: %r" % (words,))


def run_module(monkeypatch, main, args, script=(), check_mode=False, diff=False):
    commands = FakeCommands(script)

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run_command(self, argv, **kwargs):
        return commands(self, argv, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/local/bin/" + name)
    full = dict(args)
    full["_ansible_check_mode"] = check_mode
    full["_ansible_diff"] = diff
    with patch_module_args(full):
        with pytest.raises(ModuleExit) as caught:
            main()
    return caught.value.result, caught.value.failed, commands


def as_json(obj):
    return json.dumps(obj, sort_keys=True)
