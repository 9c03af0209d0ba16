"""module_utils.validation.inventory_files: host_vars/ and group_vars/ entries that Ansible does not read."""
import pytest

from ansible_collections.normaldance.platform.plugins.module_utils.validation.inventory_files import check_inventory_files

GROUPS = ["all", "ungrouped", "k8s_cluster", "control_plane", "workers", "etcd"]
HOSTS = ["cp1", "w1", "w2"]
HOST_RULE = "Ansible silently ignores host_vars/<name> when <name> is not a host of the inventory"
GROUP_RULE = "Ansible silently ignores group_vars/<name> when <name> is not a group of the inventory"


@pytest.mark.parametrize("entries,problems", [
    (["host_vars/w1.yml", "host_vars/cp1/labels.yml", "host_vars/w2.json", "host_vars/localhost.yml",
      "group_vars/all/network.yml", "group_vars/k8s_cluster.yaml", "group_vars/workers", "group_vars/.hidden.yml",
      "group_vars/etcd.yml~", "group_vars/README", "group_vars/readme.md", "group_vars/all.yml.bak", "group_vars/notes.txt"],
     []),
    (["host_vars/w3.yml"], ["host_vars/w3.yml: the inventory has no host w3; " + HOST_RULE]),
    (["host_vars/cp11.yml"], ["host_vars/cp11.yml: the inventory has no host cp11; did you mean cp1? " + HOST_RULE]),
    (["host_vars/w3"], ["host_vars/w3: the inventory has no host w3; " + HOST_RULE]),
    (["host_vars/w3.d/a.yml"], ["host_vars/w3.d: the inventory has no host w3.d; " + HOST_RULE]),
    (["host_vars/backup.yml"], ["host_vars/backup.yml: the inventory has no host backup; " + HOST_RULE]),
    (["host_vars/workers.yml"],
     ["host_vars/workers.yml: the inventory has no host workers; workers is a group, whose variables go in group_vars/; "
      + HOST_RULE]),
    (["group_vars/k8s-cluster/cluster.yml"],
     ["group_vars/k8s-cluster: the inventory has no group k8s-cluster; did you mean k8s_cluster? " + GROUP_RULE]),
    (["group_vars/w1.yml"],
     ["group_vars/w1.yml: the inventory has no group w1; w1 is a host, whose variables go in host_vars/; " + GROUP_RULE]),
    (["group_vars/all/network.yml", "group_vars/all.yml", "group_vars/all.json"],
     ["group_vars/all.json: not read, because group_vars/all is read instead; Ansible reads only the first of all, "
      "all.yml, all.yaml, all.json in group_vars/",
      "group_vars/all.yml: not read, because group_vars/all is read instead; Ansible reads only the first of all, "
      "all.yml, all.yaml, all.json in group_vars/"]),
    (["host_vars/w1.yaml", "host_vars/w1.yml"],
     ["host_vars/w1.yaml: not read, because host_vars/w1.yml is read instead; Ansible reads only the first of w1, "
      "w1.yml, w1.yaml, w1.json in host_vars/"]),
])
def test_entries(tmp_path, entries, problems):
    for entry in entries:
        path = tmp_path / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n")
    assert check_inventory_files([(str(tmp_path), "")], GROUPS, HOSTS) == problems


def test_several_directories_are_named_in_the_messages(tmp_path):
    for name in ("one", "two"):
        (tmp_path / name / "host_vars").mkdir(parents=True)
        (tmp_path / name / "host_vars" / ("%s.yml" % name)).write_text("---\n")
    directories = [(str(tmp_path / name), "%s/" % name) for name in ("one", "two")]
    assert check_inventory_files(directories, GROUPS, HOSTS) == [
        "one/host_vars/one.yml: the inventory has no host one; " + HOST_RULE,
        "two/host_vars/two.yml: the inventory has no host two; " + HOST_RULE,
    ]


def test_no_vars_directories_and_other_extensions(tmp_path):
    assert check_inventory_files([(str(tmp_path), "")], GROUPS, HOSTS) == []
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "w1.toml").write_text("")
    assert check_inventory_files([(str(tmp_path), "")], GROUPS, HOSTS, extensions=(".toml",)) == []
