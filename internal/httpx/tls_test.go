package httpx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki is a throw-away certificate authority with one server and one client
// certificate, written as PEM files.
type pki struct {
	caFile, serverCert, serverKey string
	caPool                        *x509.CertPool
	client                        tls.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tend test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	p := pki{
		caFile:     filepath.Join(dir, "ca.pem"),
		serverCert: filepath.Join(dir, "server.pem"),
		serverKey:  filepath.Join(dir, "server.key"),
		caPool:     x509.NewCertPool(),
	}
	p.caPool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	srvDER, srvKey := issue(2, "server", x509.ExtKeyUsageServerAuth)
	writePEM(t, p.serverCert, "CERTIFICATE", srvDER)
	writePEM(t, p.serverKey, "PRIVATE KEY", marshalKey(t, srvKey))
	cliDER, cliKey := issue(3, "client", x509.ExtKeyUsageClientAuth)
	p.client = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func marshalKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSConfigArguments(t *testing.T) {
	p := newPKI(t)
	cfg, err := TLSConfig("", "", "")
	if cfg != nil || err != nil {
		t.Fatalf("no files: got %v, %v; want nil, nil", cfg, err)
	}
	bad := []struct{ name, key, cert, ca string }{
		{"cert without key", "", p.serverCert, ""},
		{"key without cert", p.serverKey, "", ""},
		{"ca alone", "", "", p.caFile},
		{"ca with cert only", "", p.serverCert, p.caFile},
		{"missing key file", p.serverKey + ".nope", p.serverCert, ""},
		{"missing ca file", p.serverKey, p.serverCert, p.caFile + ".nope"},
		{"ca file without PEM", p.serverKey, p.serverCert, writeFile(t, "not pem")},
	}
	for _, c := range bad {
		if _, err := TLSConfig(c.key, c.cert, c.ca); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	cfg, err = TLSConfig(p.serverKey, p.serverCert, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("plain TLS: MinVersion %x ClientAuth %v", cfg.MinVersion, cfg.ClientAuth)
	}
	cfg, err = TLSConfig(p.serverKey, p.serverCert, p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil {
		t.Errorf("mTLS: ClientAuth %v, ClientCAs %v", cfg.ClientAuth, cfg.ClientCAs)
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveTLS runs NewServer with cfg on a loopback port until the test ends.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(okHandler(), nil)
	srv.TLSConfig = cfg
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	})
	return "https://" + ln.Addr().String() + "/"
}

func get(t *testing.T, url string, cfg *tls.Config) (string, error) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestTLSServer(t *testing.T) {
	p := newPKI(t)
	cfg, err := TLSConfig(p.serverKey, p.serverCert, "")
	if err != nil {
		t.Fatal(err)
	}
	url := serveTLS(t, cfg)
	if body, err := get(t, url, &tls.Config{RootCAs: p.caPool}); err != nil || body != "ok" {
		t.Fatalf("TLS client: %q, %v", body, err)
	}
	if _, err := get(t, url, &tls.Config{}); err == nil {
		t.Fatal("a client that does not trust the CA got through")
	}
}

func TestMutualTLSServer(t *testing.T) {
	p := newPKI(t)
	cfg, err := TLSConfig(p.serverKey, p.serverCert, p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	url := serveTLS(t, cfg)
	withCert := &tls.Config{RootCAs: p.caPool, Certificates: []tls.Certificate{p.client}}
	if body, err := get(t, url, withCert); err != nil || body != "ok" {
		t.Fatalf("client with certificate: %q, %v", body, err)
	}
	if _, err := get(t, url, &tls.Config{RootCAs: p.caPool}); err == nil {
		t.Fatal("client without certificate got through")
	}
	// A certificate from another CA is refused too.
	other := newPKI(t)
	foreign := &tls.Config{RootCAs: p.caPool, Certificates: []tls.Certificate{other.client}}
	if _, err := get(t, url, foreign); err == nil {
		t.Fatal("client with a foreign certificate got through")
	}
}

// Over HTTP/2 (what a TLS client negotiates) the header limit is the same
// 16 KiB as over HTTP/1.1.
func TestHeaderLimitHTTP2(t *testing.T) {
	p := newPKI(t)
	cfg, err := TLSConfig(p.serverKey, p.serverCert, "")
	if err != nil {
		t.Fatal(err)
	}
	url := serveTLS(t, cfg)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.caPool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, tt := range []struct {
		pad, want int
	}{{15 << 10, 200}, {HeaderLimit - 400, 200}, {HeaderLimit - 100, 431}, {HeaderLimit + 2<<10, 431}} {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Pad", strings.Repeat("p", tt.pad))
		resp, err := c.Do(req)
		if err != nil && tt.want == 431 && strings.Contains(err.Error(), "larger than peer's advertised limit") {
			continue // Go's client knows the server's limit and does not send it
		}
		if err != nil && tt.want == 431 && tt.pad > HeaderLimit && strings.Contains(err.Error(), "COMPRESSION_ERROR") {
			// Sent before the client had the server's SETTINGS: the
			// server's decoder refuses the block and closes the connection.
			// Refused all the same; the next request needs a new one.
			tr.CloseIdleConnections()
			continue
		}
		if err != nil {
			t.Fatalf("pad %d: %v", tt.pad, err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("spoke %s, want HTTP/2", resp.Proto)
		}
		if resp.StatusCode != tt.want {
			t.Errorf("pad %d over HTTP/2: %d, want %d", tt.pad, resp.StatusCode, tt.want)
		}
	}
}
