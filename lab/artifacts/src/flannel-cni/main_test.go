package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeSubnetEnv(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "subnet.env")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadSubnetEnv(t *testing.T) {
	path := writeSubnetEnv(t, "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
	env, err := readSubnetEnv(path)
	if err != nil {
		t.Fatal(err)
	}
	if env.network.String() != "10.244.0.0/16" || env.subnet.String() != "10.244.3.0/24" {
		t.Errorf("network %s subnet %s", env.network, env.subnet)
	}
	if env.mtu != 1450 || !env.ipMasq {
		t.Errorf("mtu %d ipMasq %v", env.mtu, env.ipMasq)
	}
}

func TestReadSubnetEnvRejectsIncompleteLease(t *testing.T) {
	if _, err := readSubnetEnv(writeSubnetEnv(t, "FLANNEL_MTU=1450\n")); err == nil {
		t.Fatal("a lease without network and subnet was accepted")
	}
	if _, err := readSubnetEnv(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing lease file was accepted")
	}
}

func TestDelegateConfigDefaults(t *testing.T) {
	env, err := readSubnetEnv(writeSubnetEnv(t, "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"))
	if err != nil {
		t.Fatal(err)
	}
	conf := map[string]any{"name": "cbr0", "cniVersion": "1.0.0", "type": "flannel",
		"delegate": map[string]any{"hairpinMode": false, "isDefaultGateway": true}}
	d := delegateConfig(conf, env)
	want := map[string]any{
		"name": "cbr0", "cniVersion": "1.0.0", "type": "bridge",
		"ipMasq": false, // flanneld masquerades itself
		"mtu":    1450, "isGateway": true, "hairpinMode": false, "isDefaultGateway": true,
		"ipam": map[string]any{
			"type":   "host-local",
			"ranges": [][]map[string]string{{{"subnet": "10.244.3.0/24"}}},
			"routes": []map[string]string{{"dst": "10.244.0.0/16"}},
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("delegate config\n got %#v\nwant %#v", d, want)
	}
}

func TestDelegateConfigMasqueradesWhenFlanneldDoesNot(t *testing.T) {
	env, err := readSubnetEnv(writeSubnetEnv(t, "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_IPMASQ=false\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := delegateConfig(map[string]any{"name": "cbr0", "cniVersion": "1.0.0",
		"prevResult": map[string]any{"cniVersion": "1.0.0"}}, env)
	if d["ipMasq"] != true {
		t.Errorf("ipMasq = %v, want true", d["ipMasq"])
	}
	if _, ok := d["mtu"]; ok {
		t.Errorf("mtu set without FLANNEL_MTU: %v", d["mtu"])
	}
	if _, ok := d["prevResult"]; !ok {
		t.Error("prevResult not passed to the delegate")
	}
}
