package monitor

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func diskMonitor(t *testing.T, f *fixture, bytes, inodes Threshold) *Monitor {
	t.Helper()
	o := f.options()
	o.Root = "/srv/tend"
	o.DiskFreeBytes, o.DiskFreeInodes = bytes, inodes
	f.set(readySnap())
	return mustNew(t, o)
}

func TestDiskBytesHysteresis(t *testing.T) {
	f := newFixture()
	f.setDisk(100, 1000, nil)
	m := diskMonitor(t, f, Threshold{Lower: 50, Upper: 80}, Threshold{})

	step := func(free uint64, wantOK bool, wantIn string) {
		t.Helper()
		f.setDisk(free, 1000, nil)
		f.advance(diskTTL)
		ok, reasons := m.Healthy()
		if ok != wantOK {
			t.Fatalf("free=%d: ok=%v (%q), want %v", free, ok, reasons, wantOK)
		}
		if wantIn != "" && !slices.ContainsFunc(reasons, func(r string) bool { return strings.Contains(r, wantIn) }) {
			t.Fatalf("free=%d: reasons %q lack %q", free, reasons, wantIn)
		}
	}
	step(60, true, "") // in the band, was healthy: stays healthy
	step(49, false, "low disk space on /srv/tend: 49 bytes free (unhealthy below 50, healthy again above 80)")
	step(70, false, "70 bytes free") // in the band, was unhealthy: stays unhealthy
	step(80, false, "")              // not above upper yet
	step(81, true, "")
	step(60, true, "")
}

func TestDiskInodesHysteresis(t *testing.T) {
	f := newFixture()
	f.setDisk(1<<30, 500, nil)
	m := diskMonitor(t, f, Threshold{}, Threshold{Lower: 100, Upper: 200})
	for _, tc := range []struct {
		inodes uint64
		ok     bool
	}{{150, true}, {99, false}, {150, false}, {201, true}, {100, true}} {
		f.setDisk(1<<30, tc.inodes, nil)
		f.advance(diskTTL)
		if ok, reasons := m.Healthy(); ok != tc.ok {
			t.Fatalf("inodes=%d: ok=%v %q, want %v", tc.inodes, ok, reasons, tc.ok)
		} else if want := fmt.Sprintf("low free inodes on /srv/tend: %d inodes free", tc.inodes); !ok && !strings.Contains(reasons[0], want) {
			t.Fatalf("reasons %q", reasons)
		}
	}
}

func TestDiskCachedForTTL(t *testing.T) {
	f := newFixture()
	f.setDisk(100, 1000, nil)
	m := diskMonitor(t, f, Threshold{Lower: 50, Upper: 80}, Threshold{})
	calls := f.statfsCalls() // New takes one sample
	f.setDisk(10, 1000, nil)
	for range 100 {
		if ok, _ := m.Healthy(); !ok {
			t.Fatal("the cached sample should still answer")
		}
	}
	f.advance(diskTTL - time.Nanosecond)
	if ok, _ := m.Healthy(); !ok {
		t.Fatal("the cached sample should answer until the TTL")
	}
	if got := f.statfsCalls(); got != calls {
		t.Fatalf("statfs called %d times within the TTL", got-calls)
	}
	f.advance(time.Nanosecond)
	if ok, _ := m.Healthy(); ok {
		t.Fatal("a fresh sample should be taken after the TTL")
	}
	// A clock that goes backwards also forces a fresh sample.
	calls = f.statfsCalls()
	f.setDisk(100, 1000, nil)
	f.advance(-time.Hour)
	if ok, r := m.Healthy(); !ok || f.statfsCalls() != calls+1 {
		t.Fatalf("after the clock went back: ok=%v %q, %d statfs calls", ok, r, f.statfsCalls()-calls)
	}
}

func TestDiskStatfsError(t *testing.T) {
	f := newFixture()
	m := diskMonitor(t, f, Threshold{Lower: 50, Upper: 80}, Threshold{})
	f.setDisk(0, 0, errors.New("statfs /srv/tend: input/output error"))
	f.advance(diskTTL)
	ok, reasons := m.Healthy()
	if ok || len(reasons) != 1 || reasons[0] != "cannot read free space of /srv/tend: statfs /srv/tend: input/output error" {
		t.Fatalf("ok=%v reasons=%q", ok, reasons)
	}
	// A failing root is refused at start-up.
	o := f.options()
	o.Root, o.DiskFreeBytes = "/srv/tend", Threshold{Lower: 1, Upper: 2}
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("New with a failing root: %v", err)
	}
}

func TestStatfsReal(t *testing.T) {
	b, i, err := statfs(t.TempDir())
	if err != nil || b == 0 || i == 0 {
		t.Fatalf("statfs(tempdir) = %d, %d, %v", b, i, err)
	}
	if _, _, err := statfs("/nonexistent/tend"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("statfs of a missing path: %v, want ENOENT wrapped", err)
	}
}

// TestDiskRootOnlyForMetrics: without a disk threshold, a root that cannot be
// read does not stop the monitor; the free-space gauges are just absent.
func TestDiskRootOnlyForMetrics(t *testing.T) {
	f := newFixture()
	f.setDisk(0, 0, errors.New("no such file or directory"))
	o := f.options()
	o.Root = "/srv/tend"
	f.set(readySnap())
	m := mustNew(t, o)
	if ok, r := m.Healthy(); !ok {
		t.Fatalf("Healthy() = false %q", r)
	}
	mfs := parse(t, first(scrape(t, m, "")))
	if mfs["tend_root_free_bytes"] != nil {
		t.Fatal("free bytes reported from a failed statfs")
	}
	f.setDisk(5, 6, nil)
	f.advance(diskTTL)
	mfs = parse(t, first(scrape(t, m, "")))
	if mfs["tend_root_free_bytes"] == nil || mfs["tend_root_free_inodes"] == nil {
		t.Fatal("free bytes and inodes missing once statfs works")
	}
}
