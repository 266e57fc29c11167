package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig builds the server TLS configuration of `--key`, `--certs` and
// `--ca-certs`, with Habitat's rules: no key and no certificate means plain
// HTTP (nil, nil); a certificate needs its key and the reverse; a CA file
// needs both and makes client certificates mandatory (mutual TLS).
func TLSConfig(keyFile, certFile, caFile string) (*tls.Config, error) {
	switch {
	case keyFile == "" && certFile == "" && caFile == "":
		return nil, nil
	case keyFile == "" && certFile == "":
		return nil, errors.New("tls: a CA file needs a key and a certificate")
	case certFile == "":
		return nil, errors.New("tls: a key needs a certificate")
	case keyFile == "":
		return nil, errors.New("tls: a certificate needs a key")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load key pair: %w", err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: no PEM certificate in CA file %s", caFile)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return cfg, nil
}
