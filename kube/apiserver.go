package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"time"

	"github.com/election-harness/harness/cluster"
)

// Paths and port of an apiserver node.
const (
	// BinaryPath is kube-apiserver's path in the node image.
	BinaryPath = "/kube-apiserver"
	// certDir holds the run's certificates in an apiserver node.
	certDir = "/kube"
	// Port is the apiserver's secure port.
	Port = 6443
)

// Files are the certificates an apiserver node needs, from the host.
func (c Certs) Files() []cluster.File {
	var files []cluster.File
	for _, name := range []string{CAFile, ServingCertFile, ServingKeyFile, ServiceAccountKey, ServiceAccountPub} {
		files = append(files, cluster.File{HostPath: c.Path(name), NodePath: certDir + "/" + name, Mode: 0o644})
	}
	return files
}

// Command starts kube-apiserver on self, storing where storage (the
// database's db.KubeStore flags) points, as a cluster's control plane
// does.
// Authorization allows every authenticated request: the harness tests
// leader election, not RBAC. Priority and fairness are off so that a
// slowed apiserver queues nothing of its own.
func Command(self netip.Addr, storage []string) []string {
	cert := func(name string) string { return certDir + "/" + name }
	return append(append([]string{BinaryPath}, storage...),
		"--bind-address="+self.String(),
		"--advertise-address="+self.String(),
		fmt.Sprintf("--secure-port=%d", Port),
		"--tls-cert-file="+cert(ServingCertFile),
		"--tls-private-key-file="+cert(ServingKeyFile),
		"--client-ca-file="+cert(CAFile),
		"--service-account-key-file="+cert(ServiceAccountPub),
		"--service-account-signing-key-file="+cert(ServiceAccountKey),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=AlwaysAllow",
		"--enable-priority-and-fairness=false",
		"--cert-dir=/tmp/kube-apiserver",
		"--profiling=false",
	)
}

// URL is the address clients reach an apiserver on addr at.
func URL(addr netip.Addr) string {
	return "https://" + netip.AddrPortFrom(addr, Port).String()
}

// Ready asks url's /readyz once: nil if the apiserver says it is ready,
// else what it answered.
func Ready(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// NewClient is an HTTP client of the apiservers with tlsConfig.
func NewClient(tlsConfig *tls.Config, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
}

// WaitReady polls url's /readyz until the apiserver says it is ready, or
// ctx ends; the error then says what it last answered.
func WaitReady(ctx context.Context, url string, tlsConfig *tls.Config) error {
	hc := NewClient(tlsConfig, 5*time.Second)
	defer hc.CloseIdleConnections()
	for {
		err := Ready(ctx, hc, url)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready (%v): %w", err, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
