package ctl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The control gateway's TLS files, named as Habitat names them
// (components/core/src/tls/ctl_gateway.rs): ctl-gateway-REVISION.crt.pem
// and ctl-gateway-REVISION.key.pem, REVISION a UTC timestamp, so that a
// directory of them can be given and the newest pair is used.
const (
	tlsNamePrefix = "ctl-gateway-"
	certSuffix    = ".crt.pem"
	keySuffix     = ".key.pem"
	revisionForm  = "20060102150405"
	// certLifetime of a generated certificate. Habitat's never expire in
	// practice (year 4096); ten years is as good for a self-signed pair an
	// operator rotates by generating a new one, and is not "forever".
	certLifetime = 10 * 365 * 24 * time.Hour
)

// KeysDir is where `tend sup secret generate-tls` writes by default:
// ROOT/cache/keys/ctl, as Habitat's /hab/cache/keys/ctl.
func KeysDir(root string) string { return filepath.Join(root, "cache", "keys", "ctl") }

// ServerTLS is the gateway's TLS configuration from Habitat's
// --ctl-server-certificate, --ctl-server-key and --ctl-client-ca-certificate.
// Each is a PEM file or a directory holding files made by GenerateTLS, of
// which the newest is used. No certificate and no key means plain TCP (nil,
// nil); a client CA makes a client certificate signed by it mandatory.
func ServerTLS(certPath, keyPath, clientCAPath string) (*tls.Config, error) {
	switch {
	case certPath == "" && keyPath == "" && clientCAPath == "":
		return nil, nil
	case certPath == "" && keyPath == "":
		return nil, errors.New("control gateway TLS: --ctl-client-ca-certificate needs --ctl-server-certificate and --ctl-server-key")
	case certPath == "":
		return nil, errors.New("control gateway TLS: --ctl-server-key needs --ctl-server-certificate")
	case keyPath == "":
		return nil, errors.New("control gateway TLS: --ctl-server-certificate needs --ctl-server-key")
	}
	cert, err := loadPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("control gateway TLS: %w", err)
	}
	cfg := baseTLS()
	cfg.Certificates = []tls.Certificate{cert}
	if clientCAPath != "" {
		pool, err := loadPool(clientCAPath)
		if err != nil {
			return nil, fmt.Errorf("control gateway TLS: --ctl-client-ca-certificate: %w", err)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientFiles are the CLI's TLS settings, named after Habitat's cli.toml
// keys (ctl_server_ca_certificate, ctl_client_certificate, ctl_client_key,
// ctl_server_name_indication).
type ClientFiles struct {
	ServerCA   string // CA that signed the gateway's certificate; "" = plain TCP
	Cert, Key  string // the client's own pair, for a gateway that asks for one
	ServerName string // name to verify the gateway's certificate against; "" = the host dialed
}

// ClientTLS is the client's TLS configuration, nil when f asks for plain
// TCP. As in Habitat, TLS is on when a server CA is given; a client pair
// without one is refused rather than sent nowhere.
func ClientTLS(f ClientFiles) (*tls.Config, error) {
	switch {
	case f.ServerCA == "" && (f.Cert != "" || f.Key != ""):
		return nil, errors.New("control gateway TLS: a client certificate needs --ctl-server-ca-certificate too (TLS is on only with it)")
	case f.ServerCA == "" && f.ServerName != "":
		return nil, errors.New("control gateway TLS: --ctl-server-name-indication needs --ctl-server-ca-certificate")
	case f.ServerCA == "":
		return nil, nil
	case f.Cert != "" && f.Key == "":
		return nil, errors.New("control gateway TLS: --ctl-client-certificate needs --ctl-client-key")
	case f.Key != "" && f.Cert == "":
		return nil, errors.New("control gateway TLS: --ctl-client-key needs --ctl-client-certificate")
	}
	pool, err := loadPool(f.ServerCA)
	if err != nil {
		return nil, fmt.Errorf("control gateway TLS: --ctl-server-ca-certificate: %w", err)
	}
	cfg := baseTLS()
	cfg.RootCAs = pool
	cfg.ServerName = f.ServerName
	if f.Cert != "" {
		cert, err := loadPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("control gateway TLS: client certificate: %w", err)
		}
		// Always sent, even when the gateway's list of acceptable CAs does
		// not name its issuer (Go's default would then send none): the
		// gateway's refusal then says the certificate is not trusted,
		// rather than missing.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	return cfg, nil
}

// baseTLS: TLS 1.2 at least (Go prefers 1.3 when both ends have it), and
// HTTP/1.1 only, which the NDJSON stream is written for.
func baseTLS() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

func loadPair(certPath, keyPath string) (tls.Certificate, error) {
	c, err := resolveTLSFile(certPath, certSuffix)
	if err != nil {
		return tls.Certificate{}, err
	}
	k, err := resolveTLSFile(keyPath, keySuffix)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.LoadX509KeyPair(c, k)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key pair %s and %s: %w", c, k, err)
	}
	return cert, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	p, err := resolveTLSFile(path, certSuffix)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("no PEM certificate in %s", p)
	}
	return pool, nil
}

// resolveTLSFile returns path itself, or, when it is a directory, its
// newest ctl-gateway-*SUFFIX file (revisions are fixed-width timestamps, so
// the greatest name is the newest), as Habitat reads a directory.
func resolveTLSFile(path, suffix string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return path, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return "", err
	}
	newest := ""
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, tlsNamePrefix) && strings.HasSuffix(n, suffix) && e.Type().IsRegular() && n > newest {
			newest = n
		}
	}
	if newest == "" {
		return "", fmt.Errorf("no %s*%s in %s (make one with `tend sup secret generate-tls`)", tlsNamePrefix, suffix, path)
	}
	return filepath.Join(path, newest), nil
}

// GenerateTLS makes a self-signed certificate and its key (ECDSA P-256, as
// Habitat) for the gateway named name, a DNS name or an IP address, and
// writes them to dir as ctl-gateway-REVISION.crt.pem (0644) and
// ctl-gateway-REVISION.key.pem (0600). The certificate also names
// localhost, 127.0.0.1 and ::1, so the CLI's default address verifies, and
// serves both as a server and as a client certificate: the same command
// makes the CLI's pair.
func GenerateTLS(dir, name string, now time.Time) (certPath, keyPath string, err error) {
	if err := checkSANName(name); err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"tend Supervisor Control Gateway"}},
		NotBefore:             now.Add(-time.Hour), // a client whose clock is a little behind
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(name); ip != nil {
		if !ip.IsLoopback() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	} else if name != "localhost" {
		tmpl.DNSNames = append([]string{name}, tmpl.DNSNames...)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode key: %w", err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	base := filepath.Join(dir, tlsNamePrefix+now.UTC().Format(revisionForm))
	certPath, keyPath = base+certSuffix, base+keySuffix
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("%s already exists; not overwriting it (generate again in a second)", p)
		}
	}
	// The key first: a certificate without its key would be picked as the
	// newest and fail to load.
	if err := writeAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		return "", "", err
	}
	// The certificate is public (clients need it as their CA file), so it
	// is readable by all, like an origin's .pub key.
	if err := writeAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		_ = os.Remove(keyPath)
		return "", "", err
	}
	return certPath, keyPath, nil
}

// checkSANName accepts an IP address or a DNS name (letters, digits,
// hyphens, underscores, dots; a leading *. for a wildcard), as Habitat's
// --subject-alternative-name takes a DNS name.
func checkSANName(name string) error {
	if net.ParseIP(name) != nil {
		return nil
	}
	bad := len(name) == 0 || len(name) > 253
	for _, label := range strings.Split(strings.TrimPrefix(name, "*."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			bad = true
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				bad = true
			}
		}
	}
	if bad {
		return fmt.Errorf("--subject-alternative-name %q is neither a DNS name nor an IP address", name)
	}
	return nil
}
