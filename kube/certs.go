package kube

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ServerName is the name every apiserver's certificate holds and
// clients verify. Node addresses are chosen when the cluster starts,
// after the certificates are made, so no address is in them.
const ServerName = "kubernetes"

// The files Certs writes, by name in its directory.
const (
	CAFile              = "ca.crt"
	ServingCertFile     = "apiserver.crt"
	ServingKeyFile      = "apiserver.key"
	ServiceAccountKey   = "sa.key"
	ServiceAccountPub   = "sa.pub"
	ClientCertFile      = "client.crt"
	ClientKeyFile       = "client.key"
	clientCommonName    = "election-harness"
	clientOrganization  = "system:masters" // every right, as an admin's kubeconfig has
	certificateLifetime = 7 * 24 * time.Hour
)

// Certs is one run's certificates and keys, in Dir.
type Certs struct {
	Dir string
}

// NewCerts makes a new authority and everything it signs in dir.
func NewCerts(dir string) (Certs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Certs{}, fmt.Errorf("creating %s: %w", dir, err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Certs{}, err
	}
	now := time.Now().Add(-time.Hour) // nodes' clocks may be skewed
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "election-harness-ca"},
		NotBefore: now, NotAfter: now.Add(certificateLifetime), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return Certs{}, fmt.Errorf("signing the authority: %w", err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	c := Certs{Dir: dir}
	if err := c.write(CAFile, "CERTIFICATE", caDER); err != nil {
		return Certs{}, err
	}
	serving := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now, NotAfter: now.Add(certificateLifetime), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{ServerName, "kubernetes.default", "kubernetes.default.svc", "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	if err := c.issue(ca, caKey, serving, ServingCertFile, ServingKeyFile); err != nil {
		return Certs{}, err
	}
	client := &x509.Certificate{SerialNumber: big.NewInt(3),
		Subject:   pkix.Name{CommonName: clientCommonName, Organization: []string{clientOrganization}},
		NotBefore: now, NotAfter: now.Add(certificateLifetime), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if err := c.issue(ca, caKey, client, ClientCertFile, ClientKeyFile); err != nil {
		return Certs{}, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Certs{}, err
	}
	saDER, err := x509.MarshalPKCS8PrivateKey(saKey)
	if err != nil {
		return Certs{}, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return Certs{}, err
	}
	if err := c.write(ServiceAccountKey, "PRIVATE KEY", saDER); err != nil {
		return Certs{}, err
	}
	return c, c.write(ServiceAccountPub, "PUBLIC KEY", pubDER)
}

// issue signs tmpl with the authority and writes it and its new key.
func (c Certs) issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate, certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("signing %s: %w", certFile, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := c.write(certFile, "CERTIFICATE", der); err != nil {
		return err
	}
	return c.write(keyFile, "PRIVATE KEY", keyDER)
}

func (c Certs) write(name, kind string, der []byte) error {
	path := filepath.Join(c.Dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Path is the host path of one of the files.
func (c Certs) Path(name string) string { return filepath.Join(c.Dir, name) }

// ClientTLS is the TLS configuration of a client with every right: it
// trusts the run's authority and presents the client certificate.
func (c Certs) ClientTLS() (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(c.Path(ClientCertFile), c.Path(ClientKeyFile))
	if err != nil {
		return nil, fmt.Errorf("loading the client certificate: %w", err)
	}
	caPEM, err := os.ReadFile(c.Path(CAFile))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no certificate", c.Path(CAFile))
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, ServerName: ServerName, MinVersion: tls.VersionTLS12}, nil
}
