package ctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// genPair runs what `tend sup secret generate-tls` runs into a fresh
// directory and returns the directory.
func genPair(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ctl")
	if _, _, err := GenerateTLS(dir, name, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGenerateTLS(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	certPath, keyPath, err := GenerateTLS(dir, "sup.example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	// Habitat's names, so a directory of them can be handed to either.
	if want := filepath.Join(dir, "ctl-gateway-20260304050607.crt.pem"); certPath != want {
		t.Errorf("certificate at %s; want %s", certPath, want)
	}
	if want := filepath.Join(dir, "ctl-gateway-20260304050607.key.pem"); keyPath != want {
		t.Errorf("key at %s; want %s", keyPath, want)
	}
	for p, want := range map[string]os.FileMode{keyPath: 0o600, certPath: 0o644} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %04o; want %04o", p, st.Mode().Perm(), want)
		}
	}
	b, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"sup.example.com", "localhost", "127.0.0.1", "::1"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("certificate not valid for %s: %v", host, err)
		}
	}
	if _, err := tls.LoadX509KeyPair(certPath, keyPath); err != nil {
		t.Errorf("the pair does not load: %v", err)
	}

	// Generating again in the same second would overwrite the pair.
	if _, _, err := GenerateTLS(dir, "sup.example.com", now); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second GenerateTLS in the same second = %v; want a refusal", err)
	}

	// A directory stands for its newest pair.
	newer, _, err := GenerateTLS(dir, "other.example.com", now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := resolveTLSFile(dir, certSuffix); err != nil || got != newer {
		t.Errorf("resolveTLSFile(dir) = %s, %v; want %s", got, err, newer)
	}
	if _, err := resolveTLSFile(t.TempDir(), certSuffix); err == nil || !strings.Contains(err.Error(), "tend sup secret generate-tls") {
		t.Errorf("empty directory: %v; want it to say how to make a pair", err)
	}

	for _, bad := range []string{"", "two words", "a..b", "-lead.example.com", "x/y"} {
		if _, _, err := GenerateTLS(t.TempDir(), bad, now); err == nil {
			t.Errorf("GenerateTLS(%q) succeeded; want a refusal", bad)
		}
	}
	if _, _, err := GenerateTLS(t.TempDir(), "10.0.0.7", now); err != nil {
		t.Errorf("an IP address as the name: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if len(a) != 88 || !validSecret(a) || string(a) == string(b) {
		t.Errorf("NewSecret = %q, %q; want two different 88-character base64 secrets", a, b)
	}
}

// tlsSetup is a gateway on TLS requiring client certificates, and the
// pairs a test needs to talk to it rightly and wrongly.
type tlsSetup struct {
	addr   string
	server string // the gateway's pair (its certificate is the client's CA)
	client string // a pair the gateway's client CA is
	other  string // a pair nobody trusts
	fake   *fake
}

func newTLSSetup(t *testing.T, requireClient bool) tlsSetup {
	t.Helper()
	s := tlsSetup{server: genPair(t, "localhost"), client: genPair(t, "cli"), other: genPair(t, "localhost"), fake: &fake{}}
	clientCA := ""
	if requireClient {
		clientCA = s.client
	}
	cfg, err := ServerTLS(s.server, s.server, clientCA)
	if err != nil {
		t.Fatal(err)
	}
	s.fake.fn = func(_ context.Context, c call, progress func(string)) (any, error) {
		if c.op == "status" {
			return []api.ServiceStatus{{Ident: "core/redis/1/2"}}, nil
		}
		progress("loading over TLS")
		return nil, nil
	}
	s.addr = serveTLS(t, s.fake, cfg)
	return s
}

func clientWith(t *testing.T, addr string, f ClientFiles) *Client {
	t.Helper()
	cfg, err := ClientTLS(f)
	if err != nil {
		t.Fatal(err)
	}
	return NewClientTLS(addr, []byte(testSecret), cfg)
}

func TestTLSGateway(t *testing.T) {
	s := newTLSSetup(t, true)
	good := ClientFiles{ServerCA: s.server, Cert: s.client, Key: s.client}

	cl := clientWith(t, s.addr, good)
	st, err := cl.Status(testCtx(t), "")
	if err != nil || len(st) != 1 || st[0].Ident != "core/redis/1/2" {
		t.Fatalf("Status over TLS = %v, %v; want redis", st, err)
	}
	var progress strings.Builder
	if err := cl.Load(testCtx(t), api.LoadRequest{Pkg: "core/redis"}, &progress); err != nil {
		t.Fatalf("Load over TLS: %v", err)
	}
	if progress.String() != "loading over TLS\n" {
		t.Errorf("progress over TLS = %q", progress.String())
	}

	// The secret still counts on top of the certificates.
	cfg, err := ClientTLS(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewClientTLS(s.addr, []byte("wrong-secret"), cfg).Term(testCtx(t)); api.KindOf(err) != api.Unauthorized {
		t.Errorf("Term over TLS with a wrong secret = %v; want unauthorized", err)
	}
	calls := len(s.fake.Calls())

	refusals := []struct {
		name string
		cl   func() *Client
		want string
	}{
		{"no client certificate", func() *Client { return clientWith(t, s.addr, ClientFiles{ServerCA: s.server}) },
			"the control gateway at " + s.addr + " requires a client certificate: give --ctl-client-certificate and --ctl-client-key"},
		{"client certificate the gateway does not trust", func() *Client {
			return clientWith(t, s.addr, ClientFiles{ServerCA: s.server, Cert: s.other, Key: s.other})
		}, "the control gateway at " + s.addr + " refused the client certificate: it is not signed by the gateway's --ctl-client-ca-certificate"},
		{"wrong server CA", func() *Client {
			return clientWith(t, s.addr, ClientFiles{ServerCA: s.other, Cert: s.client, Key: s.client})
		},
			"the certificate of the control gateway at " + s.addr + " is not signed by the CA given with --ctl-server-ca-certificate (x509: certificate signed by unknown authority)"},
		{"name the certificate lacks", func() *Client {
			return clientWith(t, s.addr, ClientFiles{ServerCA: s.server, Cert: s.client, Key: s.client, ServerName: "elsewhere.example.com"})
		}, "the certificate of the control gateway at " + s.addr + " is not valid for elsewhere.example.com: connect by a name it holds or set --ctl-server-name-indication"},
		{"plain TCP", func() *Client { return NewClient(s.addr, []byte(testSecret)) },
			"the control gateway at " + s.addr + " requires TLS: give --ctl-server-ca-certificate (or TEND_CTL_SERVER_CA_CERTIFICATE)"},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			// Both a streamed operation and a query, as the CLI makes both.
			for _, do := range []func(*Client) error{
				func(c *Client) error { return c.Load(testCtx(t), api.LoadRequest{Pkg: "core/redis"}, io.Discard) },
				func(c *Client) error { _, err := c.Status(testCtx(t), ""); return err },
			} {
				err := do(r.cl())
				if err == nil {
					t.Fatal("succeeded; want a refusal")
				}
				if err.Error() != r.want {
					t.Errorf("error %q;\nwant %q", err, r.want)
				}
				if !errors.Is(err, ErrTLS) || errors.Is(err, ErrUnreachable) {
					t.Errorf("error %v is not ErrTLS alone", err)
				}
			}
		})
	}
	if got := len(s.fake.Calls()); got != calls {
		t.Errorf("a refused client reached the supervisor: %d calls, want %d", got, calls)
	}
}

func TestTLSWithoutClientCertificates(t *testing.T) {
	// Without --ctl-client-ca-certificate the gateway encrypts and
	// authenticates itself; the secret alone says who the client is.
	s := newTLSSetup(t, false)
	if _, err := clientWith(t, s.addr, ClientFiles{ServerCA: s.server}).Status(testCtx(t), ""); err != nil {
		t.Errorf("Status without a client certificate: %v", err)
	}
}

func TestTLSClientAgainstPlainGateway(t *testing.T) {
	addr := serve(t, &fake{})
	err := clientWith(t, addr, ClientFiles{ServerCA: genPair(t, "localhost")}).Term(testCtx(t))
	want := "the control gateway at " + addr + " does not speak TLS: leave out --ctl-server-ca-certificate"
	if err == nil || err.Error() != want || !errors.Is(err, ErrTLS) {
		t.Errorf("TLS client against a plain gateway = %v; want %q", err, want)
	}
}

func TestPlainClientAgainstTLSRecords(t *testing.T) {
	// A TLS server that answers a plain request with an alert record, not
	// Go's 400 page: the CLI still says TLS is needed.
	addr := fakePeer(t, func(c net.Conn) {
		readRequest(c)
		_, _ = c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
	})
	err := NewClient(addr, []byte(testSecret)).Term(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "requires TLS") || !errors.Is(err, ErrTLS) {
		t.Errorf("plain client against TLS records = %v; want 'requires TLS'", err)
	}
}

func TestTLSOldVersionsRefused(t *testing.T) {
	s := newTLSSetup(t, false)
	conn, err := tls.Dial("tcp", s.addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}) //nolint:gosec // the point of the test
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 client was accepted")
	}
	conn, err = tls.Dial("tcp", s.addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the version is looked at
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if v := conn.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("negotiated %s; want TLS 1.3", tls.VersionName(v))
	}
}

func TestTLSSettingsRefused(t *testing.T) {
	p := genPair(t, "localhost")
	for _, tc := range []struct {
		cert, key, ca string
		want          string
	}{
		{p, "", "", "--ctl-server-certificate needs --ctl-server-key"},
		{"", p, "", "--ctl-server-key needs --ctl-server-certificate"},
		{"", "", p, "--ctl-client-ca-certificate needs --ctl-server-certificate and --ctl-server-key"},
		{p, p, t.TempDir(), "--ctl-client-ca-certificate: no ctl-gateway-*.crt.pem in"},
		{filepath.Join(p, "missing.pem"), p, "", "no such file"},
	} {
		if _, err := ServerTLS(tc.cert, tc.key, tc.ca); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ServerTLS(%q, %q, %q) = %v; want %q", tc.cert, tc.key, tc.ca, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f    ClientFiles
		want string
	}{
		{ClientFiles{Cert: p, Key: p}, "a client certificate needs --ctl-server-ca-certificate too"},
		{ClientFiles{ServerCA: p, Cert: p}, "--ctl-client-certificate needs --ctl-client-key"},
		{ClientFiles{ServerCA: p, Key: p}, "--ctl-client-key needs --ctl-client-certificate"},
		{ClientFiles{ServerName: "x"}, "--ctl-server-name-indication needs --ctl-server-ca-certificate"},
	} {
		if _, err := ClientTLS(tc.f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ClientTLS(%+v) = %v; want %q", tc.f, err, tc.want)
		}
	}
	if cfg, err := ClientTLS(ClientFiles{}); cfg != nil || err != nil {
		t.Errorf("ClientTLS with nothing = %v, %v; want plain TCP", cfg, err)
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	// A client that connects and never says hello is cut off by the
	// header timeout, TLS or not: it cannot hold a connection for good.
	t.Parallel()
	s := newTLSSetup(t, true)
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(readHeaderTimeout + 5*time.Second))
	_, err = conn.Read(make([]byte, 1))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("silent client: read = %v; want the gateway to close the connection", err)
	}
	if d := time.Since(start); d < readHeaderTimeout-time.Second {
		t.Errorf("closed after %s; want about %s", d, readHeaderTimeout)
	}
}
