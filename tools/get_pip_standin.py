"""Offline stand-in for ansible-test's get-pip.py bootstrap script.

ansible-test bootstraps pip in the virtual environments it creates by
running a get-pip.py that it downloads from a host this machine cannot
reach. It first looks for a cached copy in
``~/.ansible/test/cache/get_pip_<version>.py``; tools/ansible-test.sh
installs this file there. It gives the same result from local parts: pip
from the interpreter's own ``ensurepip``, then the requested packages
(e.g. ``pip==25.2``) from the package index with ``pip install``.
"""
import subprocess
import sys

# get-pip.py options that plain pip does not understand.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main():
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade"] + args)


if __name__ == "__main__":
    main()
