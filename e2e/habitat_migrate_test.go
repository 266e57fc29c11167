package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// habitatRoot lays out root as a stopped Habitat 1.6 Supervisor leaves
// /hab: an installed package under pkgs/ with the metadata files
// hab-plan-build writes, the Supervisor's state under sup/default/ (a
// spec file in Habitat's format, MEMBER_ID and CTL_SECRET as it writes
// them, its rumor file), the service's svc/ directory with the data it
// kept, and the operator's user.toml. It returns the spec file's bytes.
func habitatRoot(t *testing.T, root, tag string) []byte {
	t.Helper()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	grp, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Fatal(err)
	}
	const ident = "acme/habsvc/1.2.0/20240611093015"
	prefix := filepath.Join(root, "pkgs", ident)
	write := func(path, content string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	pkg := func(rel, content string) { write(filepath.Join(prefix, rel), content, 0o644) }
	pkg("IDENT", ident+"\n")
	pkg("TARGET", "x86_64-linux\n")
	pkg("MANIFEST", "# acme / habsvc\n\n* __Version__: 1.2.0\n* __Release__: 20240611093015\n* __Target__: x86_64-linux\n")
	pkg("FILES", "c0ffee0000000000000000000000000000000000000000000000000000000000  bin/habsvc-server\n")
	pkg("DEPS", "core/busybox-static/1.34.1/20220210123456\n")
	pkg("TDEPS", "core/busybox-static/1.34.1/20220210123456\n")
	pkg("PATH", prefix+"/bin\n")
	pkg("RUNTIME_PATH", prefix+"/bin\n")
	pkg("RUNTIME_ENVIRONMENT", "PATH="+prefix+"/bin:/usr/bin:/bin\n")
	pkg("BUILDTIME_ENVIRONMENT", "PATH="+prefix+"/bin\n")
	pkg("LD_RUN_PATH", prefix+"/lib\n")
	// The user Habitat ran the service as exists on the host it leaves
	// (hab, by default); here it is whoever runs the test.
	pkg("SVC_USER", me.Username+"\n")
	pkg("SVC_GROUP", grp.Name+"\n")
	pkg("EXPOSES", "8080\n")
	pkg("EXPORTS", "port=port\n")
	pkg("default.toml", "port = 8080\nmessage = \"from default.toml\"\n")
	pkg("config/app.conf", "message = {{cfg.message}}\nport = {{cfg.port}}\n")
	write(filepath.Join(prefix, "hooks", "run"), "#!/bin/sh\nexec 2>&1\ncd {{pkg.svc_path}}\nexec habsvc-server {{pkg.svc_config_path}}/app.conf {{pkg.svc_data_path}} {{pkg.svc_var_path}}\n", 0o755)
	// Core plans carry the health check under its old name too, and
	// hab-plan-build installs both.
	write(filepath.Join(prefix, "hooks", "health-check"), "#!/bin/sh\nexit 0\n", 0o755)
	write(filepath.Join(prefix, "hooks", "health_check"), "#!/bin/sh\nexit 0\n", 0o755)
	// The package's own program: it records what it was started with, and
	// the state it found in data/, then runs until stopped.
	write(filepath.Join(prefix, "bin", "habsvc-server"), "#!/bin/sh\n{ echo \"program=$0\"; cat \"$1\"; cat \"$2/state\"; } > \"$3/seen.tmp\"\nmv \"$3/seen.tmp\" \"$3/seen\"\nexec sleep 1000"+tag+"\n", 0o755)

	state := filepath.Join(root, "sup", "default")
	spec := "ident = \"acme/habsvc\"\n" +
		"group = \"prod\"\n" +
		"bldr_url = \"https://bldr.habitat.sh\"\n" +
		"channel = \"stable\"\n" +
		"topology = \"standalone\"\n" +
		"update_strategy = \"none\"\n" +
		"update_condition = \"latest\"\n" +
		"binds = []\n" +
		"binding_mode = \"strict\"\n" +
		"desired_state = \"up\"\n" +
		"shutdown_timeout = 5\n" +
		// Habitat's key for a Windows service's password, and one neither
		// knows (a later Habitat's, another tool's): tend uses neither and
		// keeps both.
		"svc_encrypted_password = \"AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA\"\n" +
		"managed_by = \"chef-infra\"\n" +
		"\n[health_check_interval]\nsecs = 20\nnanos = 0\n"
	write(filepath.Join(state, "specs", "habsvc.spec"), spec, 0o644)
	write(filepath.Join(state, "MEMBER_ID"), "4f1a0c2e9b7d4e3f8a6b5c4d3e2f1a0b", 0o644) // Habitat writes no newline
	write(filepath.Join(state, "CTL_SECRET"), "c2VjcmV0IHdyaXR0ZW4gYnkgaGFiLXN1cCBvbiBmaXJzdCBzdGFydCwgNjQgYnl0ZXMgb2YgaXQsIGJhc2U2NCBlbmNvZGVkLg==", 0o600)
	write(filepath.Join(state, "LOCK"), "4242\n", 0o644)
	write(filepath.Join(state, "data", "4f1a0c2e9b7d4e3f8a6b5c4d3e2f1a0b.rst"), "\x00\x01habitat rumors\xff", 0o600)
	write(filepath.Join(root, "cache", "keys", "acme-20240101000000.pub"), "SIG-PUB-1\nacme-20240101000000\n\nbm90IGEgcmVhbCBrZXk=", 0o644)

	svc := filepath.Join(root, "svc", "habsvc")
	for _, d := range []string{"config", "config_install", "files", "hooks", "logs", "static"} {
		if err := os.MkdirAll(filepath.Join(svc, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(svc, "data", "state"), "counter=41\n", 0o644)
	write(filepath.Join(svc, "var", "cache.db"), "kept", 0o644)
	write(filepath.Join(svc, "hooks", "run"), "#!/bin/sh\n# rendered by Habitat\n", 0o755)
	write(filepath.Join(root, "user", "habsvc", "config", "user.toml"), "message = \"from user.toml\"\n", 0o644)
	// Habitat hands the whole svc/NAME tree to the service user (hab);
	// nobody stands in for it here.
	if os.Geteuid() == 0 {
		err := filepath.WalkDir(svc, func(p string, _ os.DirEntry, err error) error {
			if err == nil {
				err = os.Lchown(p, 65534, 65534)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return []byte(spec)
}

// Moving a Habitat host to tend is one command: with hab-sup stopped,
// `tend sup run --root` over Habitat's root runs the same service from the
// same package, spec file and svc/ directory, and rewrites the spec file
// only as Habitat would (stop and start leave it byte for byte as Habitat
// wrote it).
func TestHabitatRootMigratesInOneCommand(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tag := uniqueTag()
	specBytes := habitatRoot(t, root, tag)

	// hab-sup was killed, not stopped: its PID file names a pid a process
	// that is not the service has now. Habitat's PID file has no start
	// time, so tend must leave that process alone.
	bystander := exec.Command("sleep", "2000"+tag)
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bystander.Process.Kill(); bystander.Wait() })
	pidFile := filepath.Join(root, "svc", "habsvc", "PID")
	os.WriteFile(pidFile, []byte(fmt.Sprintf("%d\n", bystander.Process.Pid)), 0o644)

	s := startSup(t, root)
	seen := filepath.Join(root, "svc", "habsvc", "var", "seen")
	var got string
	waitUntil(t, 30*time.Second, "the service to run from the package", func() (bool, string) {
		b, _ := os.ReadFile(seen)
		got = string(b)
		return len(procsWith("sleep 1000"+tag)) == 1 && got != "", got
	})
	prefix := filepath.Join(root, "pkgs", "acme", "habsvc", "1.2.0", "20240611093015")
	for _, want := range []string{
		"program=" + prefix + "/bin/habsvc-server", // found on the package's RUNTIME_ENVIRONMENT PATH
		"message = from user.toml",                 // ROOT/user/habsvc/config/user.toml over default.toml
		"port = 8080",
		"counter=41", // data/ as Habitat left it
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the service saw %q; want %q in it", got, want)
		}
	}
	if log := s.errOut.String(); !strings.Contains(log, "spec keys tend does not know are kept but not used") || !strings.Contains(log, "keys=managed_by") {
		t.Errorf("the key tend does not know is not named in its log")
	}
	if err := bystander.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the process Habitat's stale PID file named was killed: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "svc", "habsvc", "var", "cache.db")); string(b) != "kept" {
		t.Errorf("var/ not kept: %q", b)
	}
	st := s.status()["habsvc.prod"]
	if st.State != "up" || st.Ident != "acme/habsvc/1.2.0/20240611093015" {
		t.Fatalf("status: %+v", st)
	}
	var stats api.Stats
	if err := json.Unmarshal([]byte(s.mustTend("sup", "stats", "--json")), &stats); err != nil || stats.MemberID != "4f1a0c2e9b7d4e3f8a6b5c4d3e2f1a0b" {
		t.Errorf("member id %q (%v); want Habitat's", stats.MemberID, err)
	}
	if b := readFile(filepath.Join(root, "sup", "default", "specs", "habsvc.spec")); b != string(specBytes) {
		t.Errorf("spec rewritten at start:\n%s", b)
	}

	// svc stop and svc start (authenticated with Habitat's CTL_SECRET)
	// change desired_state and nothing else.
	s.mustTend("svc", "stop", "acme/habsvc")
	waitFor(t, 30*time.Second, "the service to stop", func() bool { return len(procsWith("sleep 1000"+tag)) == 0 })
	want := bytes.Replace(specBytes, []byte(`desired_state = "up"`), []byte(`desired_state = "down"`), 1)
	if b := readFile(s.specPath("habsvc")); b != string(want) {
		t.Errorf("spec after svc stop:\n%s\nwant:\n%s", b, want)
	}
	s.mustTend("svc", "start", "acme/habsvc")
	waitFor(t, 30*time.Second, "the service to start again", func() bool { return len(procsWith("sleep 1000"+tag)) == 1 })
	if b := readFile(s.specPath("habsvc")); b != string(specBytes) {
		t.Errorf("spec after svc start is not Habitat's again:\n%s\nwant:\n%s", b, specBytes)
	}
	if b := readFile(filepath.Join(root, "svc", "habsvc", "data", "state")); b != "counter=41\n" {
		t.Errorf("data/state after a restart: %q", b)
	}
}
