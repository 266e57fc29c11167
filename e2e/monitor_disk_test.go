package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMonitorDiskThreshold runs a supervisor whose root is a real 4 MiB
// tmpfs and fills it across the free-bytes bounds.
func TestMonitorDiskThreshold(t *testing.T) {
	root := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", root).CombinedOutput(); err != nil {
		if os.Getenv("TEND_REQUIRE_TOOLS") == "1" {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", root).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", root, err, out)
		}
	})
	const mib = 1 << 20
	lower, upper := int64(2*mib), int64(3*mib)
	t.Setenv("TEND_MONITOR_HEALTHY_DISKFREEBYTES_LOWER", strconv.FormatInt(lower, 10))
	t.Setenv("TEND_MONITOR_HEALTHY_DISKFREEBYTES_UPPER", strconv.FormatInt(upper, 10))
	// tmpfs has plenty of inodes; keep the inode check out of the way.
	t.Setenv("TEND_MONITOR_HEALTHY_DISKFREEINODES_LOWER", "10")
	t.Setenv("TEND_MONITOR_HEALTHY_DISKFREEINODES_UPPER", "20")
	s := startSup(t, root)
	url := "http://" + s.http + "/healthy"

	free := func() int64 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(root, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Bavail) * int64(st.Bsize)
	}
	freeRe := regexp.MustCompile(`(?m)^tend_root_free_bytes (\S+)$`)
	// tendSees waits until the supervisor's cached statfs shows what we see.
	tendSees := func() {
		t.Helper()
		want := free()
		waitFor(t, 10*time.Second, fmt.Sprintf("tend_root_free_bytes %d", want), func() bool {
			_, body := monGet(t, "GET", "http://"+s.http+"/metrics")
			m := freeRe.FindStringSubmatch(body)
			if m == nil {
				return false
			}
			v, err := strconv.ParseFloat(m[1], 64)
			return err == nil && int64(v) == want
		})
	}
	if f := free(); f <= upper {
		t.Fatalf("fresh tmpfs has only %d bytes free", f)
	}
	tendSees()
	if c, b := monGet(t, "GET", url); c != 200 {
		t.Fatalf("/healthy with %d free: %d %s", free(), c, b)
	}

	fill := filepath.Join(root, "fill")
	setFree := func(target int64) {
		t.Helper()
		cur := int64(0)
		if fi, err := os.Stat(fill); err == nil {
			cur = fi.Size()
		}
		size := cur + free() - target
		if size < 0 {
			size = 0
		}
		f, err := os.OpenFile(fill, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(0); err != nil {
			t.Fatal(err)
		}
		// Real bytes, not a sparse file: tmpfs counts only written pages.
		if _, err := f.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}

	setFree(lower - mib/2) // below lower
	tendSees()
	body := monWaitCode(t, url, 503, "unhealthy below lower")
	if !strings.Contains(body, "low disk space on "+root) || !strings.Contains(body, fmt.Sprintf("unhealthy below %d, healthy again above %d", lower, upper)) {
		t.Fatalf("503 body: %q", body)
	}

	setFree((lower + upper) / 2) // between the bounds: the verdict holds
	tendSees()
	if c, b := monGet(t, "GET", url); c != 503 || !strings.Contains(b, "low disk space") {
		t.Fatalf("between the bounds (%d free) /healthy answered %d %q, want 503 (hysteresis)", free(), c, b)
	}

	if err := os.Remove(fill); err != nil { // above upper
		t.Fatal(err)
	}
	tendSees()
	monWaitCode(t, url, 200, "healthy above upper")
}
