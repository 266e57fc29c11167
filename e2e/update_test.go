package e2e

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// svcView is what one member's /services says of one service.
type svcView struct {
	ident, state, reason, strategy string
	ok                             bool
}

func (s *sup) service(name string) svcView {
	var services []struct {
		Pkg struct {
			Ident string `json:"ident"`
			Name  string `json:"name"`
		} `json:"pkg"`
		Process struct {
			State string `json:"state"`
		} `json:"process"`
		Last *struct {
			Reason string `json:"termination_reason"`
		} `json:"last_process_state"`
		Strategy string `json:"update_strategy"`
	}
	if !getJSON("http://"+s.http+"/services", &services) {
		return svcView{}
	}
	for _, o := range services {
		if o.Pkg.Name == name {
			v := svcView{ident: o.Pkg.Ident, state: o.Process.State, strategy: o.Strategy, ok: true}
			if o.Last != nil {
				v.reason = o.Last.Reason
			}
			return v
		}
	}
	return svcView{}
}

// updPkg is a package of release version whose run hook sleeps with tag.
func updPkg(t *testing.T, name, version, tag string) string {
	return pkgDir(t, map[string]string{
		"IDENT":     "test/" + name + "/" + version + "/20260101000000",
		"hooks/run": "#!/bin/sh\nexec sleep 1000" + tag + "\n",
	})
}

// dropArchive writes dir as NAME.tar.gz into source, under one top
// directory, by a rename so a poll never sees half of it.
func dropArchive(t *testing.T, dir, source, name string) {
	t.Helper()
	tmp := filepath.Join(source, "."+name+".tar.gz")
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(filepath.Join(name, rel))
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	for _, c := range []func() error{tw.Close, gz.Close, f.Close} {
		if cerr := c(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(source, name+".tar.gz")); err != nil {
		t.Fatal(err)
	}
}

// dropDir copies a package directory into source, by a rename.
func dropDir(t *testing.T, dir, source, name string) {
	t.Helper()
	tmp := filepath.Join(source, "."+name)
	if err := os.CopyFS(tmp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(source, name)); err != nil {
		t.Fatal(err)
	}
}

// installAndLoad installs dir on every member and loads the package by its
// fuzzy ident (a directory or a fully qualified ident would pin the
// release) with args.
func installAndLoad(t *testing.T, sups []*sup, dir, fuzzy string, args ...string) {
	t.Helper()
	for _, s := range sups {
		if r := runTend(t, s.root, "pkg", "install", dir); r.code != 0 {
			t.Fatalf("pkg install: %s", r.stderr)
		}
		s.mustTend(append([]string{"svc", "load", fuzzy}, args...)...)
	}
}

// TestUpdateAtOnce: three members follow one update source with a short
// period; a v2 archive dropped into it reaches every member within one
// period plus its splay (and the time a restart takes), each restarted
// with termination_reason package_updated and a log line saying so.
func TestUpdateAtOnce(t *testing.T) {
	t.Parallel()
	source := t.TempDir()
	const period = 2 * time.Second
	sups := ringOf(t, 3, "--update-source", source, "--service-update-period", period.String())
	name := "updnow"
	tag1, tag2, tag3, tagNone := uniqueTag()+"1", uniqueTag()+"2", uniqueTag()+"3", uniqueTag()+"4"
	installAndLoad(t, sups, updPkg(t, name, "1.0.0", tag1), "test/"+name, "--strategy", "at-once")
	// Beside it, on the first member, a service with strategy none.
	still := "updnone"
	installAndLoad(t, sups[:1], updPkg(t, still, "1.0.0", tagNone), "test/"+still)
	v1, v2 := "test/"+name+"/1.0.0/20260101000000", "test/"+name+"/2.0.0/20260101000000"
	for _, s := range sups {
		waitFor(t, 30*time.Second, "v1 up on "+s.memberID(), func() bool {
			v := s.service(name)
			return v.ident == v1 && v.state == "up" && v.strategy == "at-once"
		})
	}
	dropArchive(t, updPkg(t, name, "2.0.0", tag2), source, name+"-2.0.0")
	dropDir(t, updPkg(t, still, "2.0.0", tagNone+"2"), source, still+"-2.0.0")
	dropped := time.Now()
	// A period plus a quarter of splay, and the restart itself; the
	// machine is shared, so the restart gets slack.
	bound := period + period/4 + 5*time.Second
	for _, s := range sups {
		waitUntil(t, bound-time.Since(dropped), "v2 up on "+s.memberID(), func() (bool, string) {
			v := s.service(name)
			return v.ident == v2 && v.state == "up", fmt.Sprintf("%+v", v)
		})
		if v := s.service(name); v.reason != "package_updated" {
			t.Errorf("%s: termination_reason %q, want package_updated", s.memberID(), v.reason)
		}
		if !strings.Contains(s.errOut.String(), "package update: "+v1+" to "+v2) {
			t.Errorf("%s: no package update line in the log", s.memberID())
		}
	}
	t.Logf("3 members on v2 %s after the archive was dropped (period %s)", time.Since(dropped).Round(time.Millisecond), period)
	// The poll that moved the first member moved nothing with strategy none.
	if v := sups[0].service(still); v.ident != "test/"+still+"/1.0.0/20260101000000" || v.state != "up" {
		t.Errorf("strategy none: %+v, want v1 up", v)
	}

	// tend pkg install of a newer release on one member counts as a new
	// package there: that member moves, the others (whose source has no
	// v3) stay.
	v3 := "test/" + name + "/3.0.0/20260101000000"
	if r := runTend(t, sups[1].root, "pkg", "install", updPkg(t, name, "3.0.0", tag3)); r.code != 0 {
		t.Fatalf("pkg install: %s", r.stderr)
	}
	waitFor(t, period+period/4+10*time.Second, "v3 up on the member it was installed on", func() bool {
		v := sups[1].service(name)
		return v.ident == v3 && v.state == "up"
	})
	for _, s := range []*sup{sups[0], sups[2]} {
		if v := s.service(name); v.ident != v2 {
			t.Errorf("%s moved to %s without v3 in its source or root", s.memberID(), v.ident)
		}
	}
	if n := len(procsWith("sleep 1000" + tag1)); n != 0 {
		t.Errorf("%d v1 processes still run", n)
	}
	for tag, want := range map[string]int{tag2: 2, tag3: 1, tagNone: 1} {
		if n := len(procsWith("sleep 1000" + tag)); n != want {
			t.Errorf("%d processes of sleep 1000%s, want %d", n, tag, want)
		}
	}
}
