package e2e

// Helpers of the HTTP gateway's end-to-end tests (httpgw_*_test.go). Names
// start with gw so they stay out of the way of the other e2e files.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/httpgw/gwtest"
)

// gwUpdate rewrites the golden files under testdata/golden (go test
// ./e2e -run TestGateway -update). Registered only if no other file of the
// package did, so two files wanting -update do not panic at start-up.
var gwUpdate = func() func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
	return func() bool {
		f := flag.Lookup("update")
		return f != nil && f.Value.String() == "true"
	}
}()

// gwRequireTool skips the test when a command it drives is not installed,
// or fails it when TEND_REQUIRE_TOOLS=1 (make test) says every tool must be.
func gwRequireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("TEND_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is not installed (TEND_REQUIRE_TOOLS=1)", name)
		}
		t.Skipf("%s is not installed", name)
	}
}

// gwLaunch starts `tend sup run` as startSup does, with env added to the
// supervisor's environment, but does not wait until it is ready: with
// tokens, TLS or a blocked start-up the harness's plain GET /ready cannot
// tell. s.http is the gateway's address whether it serves HTTP or HTTPS.
func gwLaunch(t *testing.T, root string, env []string, extra ...string) *sup {
	t.Helper()
	s := &sup{t: t, root: root, args: extra}
	args := append([]string{"sup", "run", "--root", root,
		"--listen-ctl", "127.0.0.1:0", "--listen-http", "127.0.0.1:0",
		"--listen-gossip", "127.0.0.1:0", "--sys-ip-address", "127.0.0.1",
		"--service-min-backoff-period", "0", "--service-max-backoff-period", "0"}, extra...)
	s.cmd = exec.Command(tendBin(), args...)
	s.out, s.errOut = &syncBuf{}, &syncBuf{}
	s.cmd.Stdout = s.out
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	s.cmd.Env = append(append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH")), env...)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.errOut.Write([]byte(line + "\n"))
			if !sent && listenRe.MatchString(line) {
				first <- line
				sent = true
			}
		}
		if !sent {
			close(first)
		}
	}()
	go func() {
		s.cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	t.Cleanup(s.cleanup)
	select {
	case line, ok := <-first:
		if !ok {
			t.Fatalf("supervisor exited before starting:\n%s", s.errOut.String())
		}
		s.ctl = field(line, "ctl")
		s.http = field(line, "http")
		if s.http == "" {
			s.http = field(line, "https")
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("supervisor did not log its listeners:\n%s", s.errOut.String())
	}
	return s
}

// gwStart is gwLaunch for a plain-HTTP supervisor without tokens, waiting
// until it is ready.
func gwStart(t *testing.T, root string, extra ...string) (*sup, *gwClient) {
	t.Helper()
	s := gwLaunch(t, root, nil, extra...)
	c := gwHTTP(t, s)
	c.waitReady()
	return s, c
}

// gwClient sends requests to one gateway. Every request has a deadline:
// a gateway that blocks fails the test instead of hanging it.
type gwClient struct {
	t    *testing.T
	base string
	c    *http.Client
	hdr  http.Header // added to every request
}

func gwHTTP(t *testing.T, s *sup) *gwClient {
	return &gwClient{t: t, base: "http://" + s.http, c: &http.Client{Timeout: 10 * time.Second}}
}

// gwResp is one answer.
type gwResp struct {
	code int
	hdr  http.Header
	body []byte
}

// try sends one request; hdr pairs are header name, value.
func (c *gwClient) try(method, path string, hdr ...string) (gwResp, error) {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return gwResp{}, err
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return gwResp{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return gwResp{}, err
	}
	return gwResp{code: resp.StatusCode, hdr: resp.Header, body: body}, nil
}

// do is try that fails the test on a transport error.
func (c *gwClient) do(method, path string, hdr ...string) gwResp {
	c.t.Helper()
	r, err := c.try(method, path, hdr...)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// get fails the test unless GET path answers want; it returns the body.
func (c *gwClient) get(path string, want int, hdr ...string) []byte {
	c.t.Helper()
	r := c.do("GET", path, hdr...)
	if r.code != want {
		c.t.Fatalf("GET %s: %d, want %d; body %q", path, r.code, want, r.body)
	}
	return r.body
}

// waitReady polls GET /ready (on the gateway, where the monitoring routes
// are mounted by default) until it answers 200.
func (c *gwClient) waitReady() {
	c.t.Helper()
	waitFor(c.t, 30*time.Second, "supervisor ready on "+c.base, func() bool {
		r, err := c.try("GET", "/ready")
		return err == nil && r.code == 200
	})
}

// gwLiterals maps the values of one live supervisor that vary from run to
// run to placeholders, for gwtest.Normalize.
func gwLiterals(t *testing.T, s *sup, c *gwClient) map[string]string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	var svcs []struct {
		Sys struct {
			Version string `json:"version"`
		} `json:"sys"`
	}
	lit := map[string]string{
		s.root: "/ROOT",
		strings.TrimSpace(readFile(filepath.Join(s.root, "sup", "default", "MEMBER_ID"))): "MEMBER_ID",
		host: "HOSTNAME",
	}
	if err := json.Unmarshal(c.get("/services", 200), &svcs); err == nil && len(svcs) > 0 && svcs[0].Sys.Version != "" {
		lit[svcs[0].Sys.Version] = "VERSION"
	}
	return lit
}

// gwGolden normalises a live JSON body and compares it with
// testdata/golden/NAME.
func gwGolden(t *testing.T, name string, body []byte, lit map[string]string) {
	t.Helper()
	norm, err := gwtest.Normalize(body, lit)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, body)
	}
	gwtest.Golden(t, filepath.Join("testdata", "golden", name), norm, gwUpdate())
}

// gwGoldenText compares a non-JSON body, with lit replaced, with
// testdata/golden/NAME.
func gwGoldenText(t *testing.T, name string, body []byte, lit map[string]string) {
	t.Helper()
	s := string(body)
	for from, to := range lit {
		if from != "" {
			s = strings.ReplaceAll(s, from, to)
		}
	}
	gwtest.Golden(t, filepath.Join("testdata", "golden", name), []byte(s), gwUpdate())
}

// gwCurl runs curl with args and returns the HTTP status it printed and the
// body it saved. A curl that fails (connection refused, TLS handshake) is
// reported as err with curl's stderr.
func gwCurl(t *testing.T, args ...string) (code string, body string, err error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "body")
	full := append([]string{"-sS", "--max-time", "10", "-o", out, "-w", "%{http_code}"}, args...)
	cmd := exec.Command("curl", full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), "", &curlError{err: err, stderr: stderr.String()}
	}
	return stdout.String(), readFile(out), nil
}

type curlError struct {
	err    error
	stderr string
}

func (e *curlError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }

// gwPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type gwPKI struct {
	caFile, certFile, keyFile, clientCert, clientKey string
	pool                                             *x509.CertPool
	client                                           tls.Certificate
}

func gwNewPKI(t *testing.T) gwPKI {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	writeKey := func(name string, k *ecdsa.PrivateKey) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(name, "PRIVATE KEY", der)
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tend e2e CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	srvDER, srvKey := leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	cliDER, cliKey := leaf(3, "tend e2e client", x509.ExtKeyUsageClientAuth, nil)
	p := gwPKI{
		caFile:     write("ca.pem", "CERTIFICATE", caDER),
		certFile:   write("server.pem", "CERTIFICATE", srvDER),
		keyFile:    writeKey("server.key", srvKey),
		clientCert: write("client.pem", "CERTIFICATE", cliDER),
		clientKey:  writeKey("client.key", cliKey),
		pool:       x509.NewCertPool(),
	}
	p.pool.AddCert(ca)
	p.client, err = tls.LoadX509KeyPair(p.clientCert, p.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// gwHTTPS is a client of a TLS gateway that trusts p's CA and presents
// p's client certificate when withCert is set.
func gwHTTPS(t *testing.T, s *sup, p gwPKI, withCert bool) *gwClient {
	cfg := &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	if withCert {
		cfg.Certificates = []tls.Certificate{p.client}
	}
	return &gwClient{t: t, base: "https://" + s.http, c: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: cfg},
	}}
}
