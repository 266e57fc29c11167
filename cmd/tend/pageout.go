package main

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pageOutExecutable gives back the pages of tend's own executable that it
// has mapped so far. Go binaries are large and the kernel maps a fault's
// neighbours with it, so once started a supervisor holds most of its 24 MB
// binary resident (14 MiB measured), much of it code for the CLI, flag
// parsing and start-up that will not run again. MADV_PAGEOUT drops those clean pages
// (they are read back if used); what the running supervisor needs comes
// back on first touch, a few megabytes. Writable mappings are left alone.
// Errors (an old kernel, no /proc) cost nothing but the pages.
func pageOutExecutable() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for line := range bytes.Lines(maps) {
		// start-end perms offset dev inode path
		f := bytes.Fields(line)
		if len(f) < 6 || string(f[5]) != exe || bytes.IndexByte(f[1], 'w') >= 0 {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte{'-'})
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_PAGEOUT)
	}
}
