package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDockerHost is the engine used when neither DOCKER_HOST nor a
// Docker context names one.
const DefaultDockerHost = "unix:///var/run/docker.sock"

// Engine is the Docker engine a run uses, and where that choice came
// from (for messages).
type Engine struct {
	Host   string // unix:///var/run/docker.sock, tcp://h:2376, ssh://u@h
	Source string // "DOCKER_HOST", `Docker context "big"`, "the default"
}

func (e Engine) String() string { return fmt.Sprintf("%s (from %s)", e.Host, e.Source) }

// ResolveEngine names the one Docker engine to use, as the docker CLI
// would: DOCKER_HOST; else the context DOCKER_CONTEXT names, else the
// current context of the docker CLI's config (DOCKER_CONFIG or
// ~/.docker: config.json's currentContext, its endpoint in
// contexts/meta/SHA256(NAME)/meta.json); else the default socket.
func ResolveEngine() (Engine, error) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return Engine{Host: h, Source: "DOCKER_HOST"}, nil
	}
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Engine{Host: DefaultDockerHost, Source: "the default"}, nil
		}
		dir = filepath.Join(home, ".docker")
	}
	name, source := os.Getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	if name == "" {
		b, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return Engine{}, fmt.Errorf("reading the docker CLI's config: %w", err)
		}
		if err == nil {
			var cfg struct {
				CurrentContext string `json:"currentContext"`
			}
			if err := json.Unmarshal(b, &cfg); err != nil {
				return Engine{}, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
			}
			name, source = cfg.CurrentContext, "currentContext of "+filepath.Join(dir, "config.json")
		}
	}
	if name == "" || name == "default" {
		return Engine{Host: DefaultDockerHost, Source: "the default"}, nil
	}
	sum := sha256.Sum256([]byte(name))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	b, err := os.ReadFile(meta)
	if err != nil {
		return Engine{}, fmt.Errorf("Docker context %q (%s): %w", name, source, err)
	}
	var m struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Engine{}, fmt.Errorf("Docker context %q: %s: %w", name, meta, err)
	}
	h := m.Endpoints["docker"].Host
	if h == "" {
		return Engine{}, fmt.Errorf("Docker context %q (%s) names no docker endpoint", name, meta)
	}
	return Engine{Host: h, Source: fmt.Sprintf("Docker context %q (%s)", name, source)}, nil
}

// remote says why an engine is not on this machine ("" when it is).
// The harness reaches every node's agent, and the database members,
// at their addresses on the run's bridge network, through the
// network's gateway, an address of the engine's host: that works only
// when the engine's host is this machine.
func (e Engine) remote() string {
	u, err := url.Parse(e.Host)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "unix", "npipe", "fd", "":
		return ""
	case "ssh", "tcp", "http", "https":
		host := u.Hostname()
		if isLocalHost(host) {
			if u.Scheme == "ssh" {
				return "the harness's Docker client has no ssh:// transport (the docker CLI's ssh helper)"
			}
			return ""
		}
		return fmt.Sprintf("it is on %s, not this machine", host)
	}
	return fmt.Sprintf("unknown scheme %q", u.Scheme)
}

// isLocalHost reports whether host names this machine: localhost, a
// loopback address, or an address of one of its interfaces.
func isLocalHost(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return true
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return false
	}
	addrs, _ := net.InterfaceAddrs()
	for _, ip := range ips {
		if ip.IsLoopback() {
			return true
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}
