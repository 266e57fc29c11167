package service

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/sdnotify"
	"github.com/tend-sh/tend/internal/service/servicetest"
)

// Without a protocol a service is ready as soon as it is up (today's
// behaviour): Ready and Initialized with Running.
func TestReadyWhenUpWithoutProtocol(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		if s := fx.r.Status(); !s.Running || !s.Ready || !s.Initialized || s.Readiness != "" {
			t.Fatalf("up without a protocol: running %v ready %v initialized %v %q", s.Running, s.Ready, s.Initialized, s.Readiness)
		}
		if f.Last("run").Notify() {
			t.Fatal("the run process was given a notification fd")
		}
	})
}

// With NOTIFICATION_FD the service is up but not ready until its newline;
// then ready, with a record. A crash takes readiness with it, and the
// restarted process must say it again. The phase stays up throughout.
func TestNotificationFDReadiness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		p := testPkg(t, map[string]string{})
		p.NotificationFD = 3
		fx := newFixture(t, f, p)
		defer fx.close()
		synctest.Wait()
		s := fx.r.Status()
		if !s.Running || s.Ready || s.Initialized || s.Readiness != api.ReadinessFD {
			t.Fatalf("before the newline: running %v ready %v initialized %v %q", s.Running, s.Ready, s.Initialized, s.Readiness)
		}
		if ph := fx.phaseOf(); ph != phaseUp {
			t.Fatalf("phase %s, want up", ph)
		}
		time.Sleep(time.Minute) // nothing but the newline makes it ready
		synctest.Wait()
		if fx.r.Status().Ready {
			t.Fatal("ready without a newline")
		}
		if !f.Last("run").Notify() {
			t.Fatal("the run process has no notification fd")
		}
		synctest.Wait()
		s = fx.r.Status()
		if !s.Ready || !s.Initialized {
			t.Fatalf("after the newline: ready %v initialized %v", s.Ready, s.Initialized)
		}
		if last := s.Records[len(s.Records)-1]; !last.OK || last.Text != "ready (a newline on fd 3)" {
			t.Fatalf("record %+v", last)
		}

		f.Last("run").Crash()
		synctest.Wait()
		time.Sleep(10 * time.Second) // the backoff
		synctest.Wait()
		if f.Count("run") != 2 {
			t.Fatalf("%d run processes, want 2", f.Count("run"))
		}
		if s := fx.r.Status(); !s.Running || s.Ready || s.Initialized {
			t.Fatalf("restarted: running %v ready %v initialized %v", s.Running, s.Ready, s.Initialized)
		}
		f.Last("run").Notify()
		synctest.Wait()
		if !fx.r.Status().Ready {
			t.Fatal("restarted process's newline not taken")
		}
	})
}

// With NOTIFY the run process finds NOTIFY_SOCKET in its environment, a
// socket of its own in the service's directory, and READY=1 there makes
// it ready; STATUS alone does not. Real sockets: no synctest bubble.
func TestNotifySocketReadiness(t *testing.T) {
	f := servicetest.NewStarter()
	p := testPkg(t, map[string]string{})
	p.Notify = true
	fx := newFixture(t, f, p)
	defer fx.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := fx.r.WaitFor(ctx, func(s *api.Service) bool { return s.Running }); err != nil {
		t.Fatal(err)
	}
	if s := fx.r.Status(); s.Ready || s.Readiness != api.ReadinessNotify {
		t.Fatalf("before READY=1: ready %v %q", s.Ready, s.Readiness)
	}
	var sock string
	for _, kv := range f.Last("run").Env() {
		if v, ok := strings.CutPrefix(kv, "NOTIFY_SOCKET="); ok {
			sock = v
		}
	}
	if want := fx.r.st.paths.root + "/notify.sock"; sock != want {
		t.Fatalf("NOTIFY_SOCKET=%q, want %q", sock, want)
	}
	n, err := sdnotify.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.Send("STATUS=warming up")
	n.Send("STATUS=done", "READY=1")
	s, err := fx.r.WaitFor(ctx, func(s *api.Service) bool { return s.Ready })
	if err != nil {
		t.Fatalf("READY=1 not taken: %v", err)
	}
	if last := s.Records[len(s.Records)-1]; last.Text != "ready (READY=1 on NOTIFY_SOCKET)" {
		t.Fatalf("record %+v", last)
	}
	// The socket goes with the process.
	fx.r.SetDesired(ctx, false)
	if _, err := fx.r.WaitFor(ctx, func(s *api.Service) bool { return !s.Running }); err != nil {
		t.Fatal(err)
	}
	if err := n.Send("READY=1"); err == nil {
		t.Fatal("the socket outlived the process")
	}
}
