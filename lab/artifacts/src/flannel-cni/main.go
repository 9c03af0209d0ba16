// Command flannel is a CNI plugin that connects a pod to the flannel overlay.
//
// flanneld writes the node's lease to a subnet file (by default
// /run/flannel/subnet.env). On ADD this plugin reads that file, derives a
// "bridge" + "host-local" configuration for the node's pod subnet, stores it
// under the data directory keyed by container ID, and runs the bridge plugin
// with it. DEL and CHECK reuse the stored configuration, so they keep working
// even if flanneld is gone. The configuration type "flannel" with the same
// options (subnetFile, dataDir, delegate) as the upstream plugin is accepted,
// so the usual flannel network configuration list works unchanged.
//
// It only uses the Go standard library.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// version is set at link time (-X main.version=...).
var version = "dev"

const (
	defaultSubnetFile = "/run/flannel/subnet.env"
	defaultDataDir    = "/var/lib/cni/flannel"
)

var supportedVersions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

type cniError struct {
	CNIVersion string `json:"cniVersion"`
	Code       int    `json:"code"`
	Msg        string `json:"msg"`
	Details    string `json:"details,omitempty"`
}

type subnetEnv struct {
	network *net.IPNet
	subnet  *net.IPNet
	mtu     int
	ipMasq  bool
}

func fail(cniVersion string, code int, msg string, err error) {
	e := cniError{CNIVersion: cniVersion, Code: code, Msg: msg}
	if err != nil {
		e.Details = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(e)
	os.Exit(1)
}

func readSubnetEnv(path string) (*subnetEnv, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := &subnetEnv{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(scanner.Text()), "=")
		if !ok {
			continue
		}
		switch key {
		case "FLANNEL_NETWORK":
			if _, n, err := net.ParseCIDR(value); err == nil {
				env.network = n
			}
		case "FLANNEL_SUBNET":
			if _, n, err := net.ParseCIDR(value); err == nil {
				env.subnet = n
			}
		case "FLANNEL_MTU":
			env.mtu, _ = strconv.Atoi(value)
		case "FLANNEL_IPMASQ":
			env.ipMasq = value == "true"
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if env.network == nil || env.subnet == nil {
		return nil, fmt.Errorf("%s lacks FLANNEL_NETWORK or FLANNEL_SUBNET", path)
	}
	return env, nil
}

func stringOption(conf map[string]any, key, fallback string) string {
	if v, ok := conf[key].(string); ok && v != "" {
		return v
	}
	return fallback
}

// delegateConfig builds the bridge configuration for this node's lease.
func delegateConfig(conf map[string]any, env *subnetEnv) map[string]any {
	d := map[string]any{}
	if given, ok := conf["delegate"].(map[string]any); ok {
		for k, v := range given {
			d[k] = v
		}
	}
	d["name"] = conf["name"]
	d["cniVersion"] = conf["cniVersion"]
	if _, ok := d["type"]; !ok {
		d["type"] = "bridge"
	}
	if _, ok := d["ipMasq"]; !ok {
		// flanneld masquerades itself when FLANNEL_IPMASQ is true.
		d["ipMasq"] = !env.ipMasq
	}
	if _, ok := d["mtu"]; !ok && env.mtu > 0 {
		d["mtu"] = env.mtu
	}
	if d["type"] == "bridge" {
		if _, ok := d["isGateway"]; !ok {
			d["isGateway"] = true
		}
		if _, ok := d["hairpinMode"]; !ok {
			d["hairpinMode"] = true
		}
	}
	d["ipam"] = map[string]any{
		"type":   "host-local",
		"ranges": [][]map[string]string{{{"subnet": env.subnet.String()}}},
		"routes": []map[string]string{{"dst": env.network.String()}},
	}
	for _, k := range []string{"runtimeConfig", "args", "prevResult"} {
		if v, ok := conf[k]; ok {
			d[k] = v
		}
	}
	return d
}

func findPlugin(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("CNI_PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("plugin %q not found in CNI_PATH %q", name, os.Getenv("CNI_PATH"))
}

// runDelegate runs the delegate plugin with the current CNI environment and
// copies its output through, returning its exit status.
func runDelegate(cniVersion string, d map[string]any) {
	typ, _ := d["type"].(string)
	path, err := findPlugin(typ)
	if err != nil {
		fail(cniVersion, 7, "delegate plugin not found", err)
	}
	payload, _ := json.Marshal(d)
	cmd := exec.Command(path)
	cmd.Env = os.Environ()
	cmd.Stdin = bytes.NewReader(payload)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			os.Exit(exitErr.ExitCode())
		}
		fail(cniVersion, 999, "running delegate plugin failed", err)
	}
}

func main() {
	command := os.Getenv("CNI_COMMAND")
	if command == "" {
		if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version" || os.Args[1] == "version") {
			fmt.Printf("CNI flannel plugin %s\n", version)
			return
		}
		fmt.Fprintf(os.Stderr, "CNI flannel plugin %s: run by a container runtime with CNI_COMMAND set\n", version)
		os.Exit(1)
	}
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("1.0.0", 999, "reading configuration failed", err)
	}
	if command == "VERSION" {
		_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"cniVersion": "1.0.0", "supportedVersions": supportedVersions})
		return
	}
	conf := map[string]any{}
	if err := json.Unmarshal(raw, &conf); err != nil {
		fail("1.0.0", 6, "decoding configuration failed", err)
	}
	cniVersion := stringOption(conf, "cniVersion", "1.0.0")
	dataDir := stringOption(conf, "dataDir", defaultDataDir)
	containerID := os.Getenv("CNI_CONTAINERID")
	if command != "STATUS" && command != "GC" && (containerID == "" || strings.ContainsAny(containerID, "/\\")) {
		fail(cniVersion, 4, "CNI_CONTAINERID is missing or invalid", nil)
	}
	saved := filepath.Join(dataDir, containerID)

	switch command {
	case "ADD":
		env, err := readSubnetEnv(stringOption(conf, "subnetFile", defaultSubnetFile))
		if err != nil {
			fail(cniVersion, 11, "flannel subnet lease not available (is flanneld running?)", err)
		}
		d := delegateConfig(conf, env)
		stored := map[string]any{}
		for k, v := range d {
			if k != "prevResult" {
				stored[k] = v
			}
		}
		data, _ := json.Marshal(stored)
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			fail(cniVersion, 999, "creating data directory failed", err)
		}
		if err := os.WriteFile(saved, data, 0o600); err != nil {
			fail(cniVersion, 999, "saving delegate configuration failed", err)
		}
		runDelegate(cniVersion, d)
	case "DEL", "CHECK":
		data, err := os.ReadFile(saved)
		if errors.Is(err, os.ErrNotExist) {
			if command == "DEL" {
				return // nothing was set up, or it was removed already
			}
			fail(cniVersion, 999, "no saved configuration for this container", err)
		} else if err != nil {
			fail(cniVersion, 999, "reading saved configuration failed", err)
		}
		d := map[string]any{}
		if err := json.Unmarshal(data, &d); err != nil {
			fail(cniVersion, 999, "decoding saved configuration failed", err)
		}
		d["cniVersion"] = cniVersion
		if v, ok := conf["prevResult"]; ok && command == "CHECK" {
			d["prevResult"] = v
		}
		runDelegate(cniVersion, d)
		if command == "DEL" {
			_ = os.Remove(saved)
		}
	case "STATUS":
		if _, err := readSubnetEnv(stringOption(conf, "subnetFile", defaultSubnetFile)); err != nil {
			fail(cniVersion, 50, "flannel subnet lease not available", err)
		}
	case "GC":
		// Stored configurations are removed on DEL; nothing else to collect.
	default:
		fail(cniVersion, 4, "unknown CNI_COMMAND "+command, nil)
	}
}
