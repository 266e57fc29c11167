package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

// TestCtlOverTLS is issue 16's TLS check: pairs made by `tend sup secret
// generate-tls`, a supervisor whose control gateway requires client
// certificates, the CLI over TLS (flags and variables), then the clients
// that must be refused, each with one line and nothing changed.
func TestCtlOverTLS(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	keys := filepath.Join(root, "cache", "keys", "ctl") // Habitat's /hab/cache/keys/ctl
	operator := filepath.Join(t.TempDir(), "operator")
	stranger := filepath.Join(t.TempDir(), "stranger")

	r := runTend(t, root, "sup", "secret", "generate-tls", "--subject-alternative-name", "sup.test")
	if r.code != 0 || !strings.Contains(r.stdout, keys+"/ctl-gateway-") {
		t.Fatalf("generate-tls: exit %d, stdout %q, stderr %q; want the pair in %s", r.code, r.stdout, r.stderr, keys)
	}
	for _, dir := range []string{operator, stranger} {
		if r := runTend(t, root, "sup", "secret", "generate-tls", "--subject-alternative-name", "operator.test", dir); r.code != 0 {
			t.Fatalf("generate-tls %s: exit %d: %s", dir, r.code, r.stderr)
		}
	}
	keyFiles, _ := filepath.Glob(filepath.Join(keys, "ctl-gateway-*.key.pem"))
	if len(keyFiles) != 1 {
		t.Fatalf("key files in %s: %v; want one", keys, keyFiles)
	}
	if st, err := os.Stat(keyFiles[0]); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", keyFiles[0], st, err)
	}

	// `sup secret generate` prints a secret the supervisor can be given.
	r = runTend(t, root, "sup", "secret", "generate")
	secret := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(secret) != 88 || strings.ContainsAny(secret, " \n") {
		t.Fatalf("sup secret generate: exit %d, %q; want one 88-character secret", r.code, r.stdout)
	}
	stateDir := filepath.Join(root, "sup", "default")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "CTL_SECRET"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	s := startSup(t, root, "--ctl-server-certificate", keys, "--ctl-server-key", keys, "--ctl-client-ca-certificate", operator)
	if !strings.Contains(s.errOut.String(), `ctl_tls="client certificates required"`) {
		t.Errorf("the start-up line does not say the control gateway requires client certificates:\n%s", s.errOut.String())
	}
	tlsFlags := []string{"--ctl-server-ca-certificate", keys, "--ctl-client-certificate", operator, "--ctl-client-key", operator}

	pkg := sleeper(t, "tlsdemo", uniqueTag())
	if r := s.tend(append([]string{"svc", "load", pkg}, tlsFlags...)...); r.code != 0 {
		t.Fatalf("svc load over TLS: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	// The same settings from the environment, and the secret from
	// Habitat's variable rather than the file.
	statusTLS := func() []api.ServiceStatus {
		t.Helper()
		r := runTendEnv(t, []string{
			"TEND_ROOT=" + t.TempDir(), // no CTL_SECRET to fall back on
			"HAB_CTL_SECRET=" + secret,
			"TEND_CTL_SERVER_CA_CERTIFICATE=" + keys,
			"TEND_CTL_CLIENT_CERTIFICATE=" + operator,
			"TEND_CTL_CLIENT_KEY=" + operator,
		}, "svc", "status", "--json", "--remote-sup", s.ctl)
		if r.code != 0 {
			t.Fatalf("svc status over TLS from the environment: exit %d\nstderr: %s", r.code, r.stderr)
		}
		var rows []api.ServiceStatus
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
			t.Fatalf("svc status --json: %v\n%s", err, r.stdout)
		}
		return rows
	}
	if rows := statusTLS(); len(rows) != 1 || !strings.HasPrefix(rows[0].Ident, "test/tlsdemo/") {
		t.Fatalf("svc status over TLS = %+v; want tlsdemo", rows)
	}

	refusals := []struct {
		name  string
		flags []string
		want  string
	}{
		{"no client certificate", []string{"--ctl-server-ca-certificate", keys},
			"requires a client certificate: give --ctl-client-certificate and --ctl-client-key"},
		{"client certificate the gateway does not trust", []string{"--ctl-server-ca-certificate", keys, "--ctl-client-certificate", stranger, "--ctl-client-key", stranger},
			"refused the client certificate: it is not signed by the gateway's --ctl-client-ca-certificate"},
		{"wrong CA", []string{"--ctl-server-ca-certificate", stranger, "--ctl-client-certificate", operator, "--ctl-client-key", operator},
			"is not signed by the CA given with --ctl-server-ca-certificate (x509: certificate signed by unknown authority)"},
		{"plain TCP", nil,
			"the control gateway at " + s.ctl + " requires TLS: give --ctl-server-ca-certificate"},
	}
	for _, ref := range refusals {
		// An unload, so that a refusal that got through would show.
		r := s.tend(append([]string{"svc", "unload", "test/tlsdemo"}, ref.flags...)...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "tend: ") || !strings.Contains(lines[0], ref.want) {
			t.Errorf("%s: exit %d, stderr %q; want one line with %q and a non-zero exit", ref.name, r.code, r.stderr, ref.want)
		}
	}
	if rows := statusTLS(); len(rows) != 1 || rows[0].State != "up" {
		t.Errorf("after the refused unloads the service is %+v; want it still loaded and up", rows)
	}

	// Bad server settings are refused before anything starts.
	other := t.TempDir()
	r = runTend(t, other, "sup", "run", "--root", other, "--listen-ctl", "127.0.0.1:0", "--listen-http", "127.0.0.1:0", "--listen-gossip", "127.0.0.1:0",
		"--ctl-server-certificate", keys, "--ctl-server-key", filepath.Join(other, "missing.key.pem"))
	if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); r.code == 0 || len(lines) != 1 || !strings.Contains(r.stderr, "missing.key.pem") {
		t.Errorf("sup run with a missing key: exit %d, stderr %q; want one line naming the file", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(other, "sup")); err == nil {
		t.Errorf("sup run with a missing key created %s/sup", other)
	}
}

// runTendEnv runs the CLI with env added to the test's environment.
func runTendEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runTendWith(t, append(os.Environ(), env...), args...)
}
