package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// findMount returns the mount point of the cgroup2 hierarchy: on a unified
// host /sys/fs/cgroup, on a hybrid one /sys/fs/cgroup/unified.
func findMount(mountinfo []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 6 || len(g) < 1 || g[0] != "cgroup2" {
			continue
		}
		// A read-only mount (a container's) cannot hold tend's subtree.
		if !strings.Contains(","+f[5]+",", ",rw,") {
			continue
		}
		// A mount of a sub-tree (ROOT != /) would need the path mapped;
		// such mounts are only seen inside containers with a private
		// cgroup namespace, where ROOT is "/" anyway.
		if f[3] != "/" {
			continue
		}
		return unescape(f[4]), nil
	}
	return "", errors.New("no writable cgroup2 mount")
}

// unescape undoes mountinfo's octal escapes of space, tab, newline and \.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ownCgroup returns this process's cgroup v2 path ("0::/PATH" in
// /proc/self/cgroup), relative to the mount.
func ownCgroup(procCgroup []byte) (string, error) {
	for line := range strings.SplitSeq(string(procCgroup), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			// "(deleted)" follows a cgroup removed under us; nothing can be
			// created in it.
			if strings.HasSuffix(p, " (deleted)") {
				return "", fmt.Errorf("own cgroup %s was removed", p)
			}
			return filepath.Clean("/" + p), nil
		}
	}
	return "", errors.New("not in a cgroup v2 hierarchy")
}

// locate returns the cgroup2 mount point and the directory of the cgroup
// this process runs in.
func locate() (mnt, dir string, err error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	if mnt, err = findMount(mi); err != nil {
		return "", "", err
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", "", fmt.Errorf("find own cgroup: %w", err)
	}
	own, err := ownCgroup(cg)
	if err != nil {
		return "", "", err
	}
	return mnt, filepath.Join(mnt, own), nil
}
