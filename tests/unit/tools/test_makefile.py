"""The Makefile's entry points: `make help` names every target."""
import re
import subprocess
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[3]


def _phony_targets():
    text = (_ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = re.search(r"^\.PHONY:(.*)$", text, re.MULTILINE).group(1)
    return line.split()


def test_help_lists_every_target_once():
    out = subprocess.run(["make", "--no-print-directory", "-s", "help"], cwd=_ROOT, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    listed = re.findall(r"^make (\S+) ", out, re.MULTILINE)
    assert sorted(listed) == sorted(_phony_targets())


def test_every_phony_target_has_a_rule():
    rules = set(re.findall(r"^([a-z][a-z-]*):", (_ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    assert set(_phony_targets()) <= rules
