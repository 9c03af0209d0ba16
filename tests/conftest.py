"""Make ``ansible_collections.normaldance.platform`` importable for pytest.

``make collection-link`` exposes this checkout under
``.cache/collections/ansible_collections/normaldance/platform``; when no
other plugin (such as pytest-ansible) has made the collection importable,
that directory is put on ``sys.path``.
"""
import importlib.util
import pathlib
import sys

COLLECTIONS = pathlib.Path(__file__).resolve().parents[1] / ".cache" / "collections"


def _importable():
    try:
        return importlib.util.find_spec("ansible_collections.normaldance.platform") is not None
    except ImportError:
        return False


if not _importable() and COLLECTIONS.is_dir():
    sys.path.insert(0, str(COLLECTIONS))
