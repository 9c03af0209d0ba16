#!/usr/bin/env python
"""Requests per second through the ingress address of a running lab.

Creates a small backend behind an Ingress (the echo server, a few bytes per
response, on the control plane), loads it from the host for a fixed time
with wrk (HTTPS through the ingress address, keep-alive connections), prints
requests per second and the p50/p90/p99 latency, and removes the backend.

  python tools/bench_ingress.py [--seconds 30] [--connections 16] [--threads 2]

Prints figures; asserts nothing. Needs wrk (Debian package wrk) and the lab.
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import uuid

import requests
import urllib3
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import lablib  # noqa: E402  (tests/lablib.py)

from kubernetes import client, config, utils  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("error: wrk is not installed (apt-get install wrk)")
    inventory = lablib.Inventory(os.environ.get("LAB_INVENTORY", ROOT / "inventories" / "lab" / "hosts.yml"))
    problem = lablib.lab_problem(inventory)
    if problem:
        sys.exit(f"error: {problem}")
    address = yaml.safe_load((inventory.path.parent / "group_vars" / "all" / "environment.yml").read_text())[
        "platform_ingress_address"]
    host = f"bench-{uuid.uuid4().hex[:6]}.lab.normaldance.internal"
    name = host.split(".", 1)[0]
    config.load_kube_config(config_file=str(inventory.kubeconfig))
    objects = lablib.ingress_backend(name, host, "development", inventory.hosts("control_plane")[0],
                                     os.environ.get("ND_ECHO_IMAGE", "10.210.0.5:5000/normaldance/echo:1.0.0"))
    k8s = client.ApiClient()
    for obj in objects:
        utils.create_from_dict(k8s, obj)
    urllib3.disable_warnings()
    try:
        def answers():
            try:
                return requests.get(f"https://{address}/", headers={"Host": host}, verify=False,
                                    timeout=2).status_code == 200
            except requests.RequestException:
                return False

        lablib.wait(answers, timeout=180, what=f"https://{address}/ (Host {host})", interval=1)
        print(f"ingress load: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s over HTTPS to "
              f"{address} (Host {host}), response {len(requests.get(f'https://{address}/', headers={'Host': host}, verify=False).content)} bytes")
        started = time.monotonic()
        out = subprocess.run([wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
                              "-H", f"Host: {host}", f"https://{address}/"],
                             capture_output=True, text=True, check=True, timeout=args.seconds + 60).stdout
        rps = re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)
        lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, re.M))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
        total = re.search(r"(\d+) requests in", out).group(1)
        print(f"ingress rps: {float(rps):.0f} requests/s ({total} in {time.monotonic() - started:.0f} s), "
              f"latency p50 {lat.get('50')} p90 {lat.get('90')} p99 {lat.get('99')}"
              f"{'; ' + errors.group(0) if errors else ''}")
    finally:
        apps, net, core = client.AppsV1Api(), client.NetworkingV1Api(), client.CoreV1Api()
        apps.delete_namespaced_deployment(name, "development")
        core.delete_namespaced_service(name, "development")
        net.delete_namespaced_network_policy(name, "development")
        net.delete_namespaced_ingress(name, "development")


if __name__ == "__main__":
    main()
