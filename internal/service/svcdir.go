package service

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// fsTopdirFL is FS_TOPDIR_FL (chattr +T) from linux/fs.h.
const fsTopdirFL = 0x00020000

// MakeServicesDir creates ROOT/svc, where every service's directories
// live, and marks it as the top of unrelated trees (chattr +T). ext4
// otherwise puts each new svc/NAME in the block group of svc/ itself, so
// hundreds of services started at once all take inodes from one group,
// and on a file system without a journal each new inode there is found by
// walking past every inode freed in the last minute: +T lets the Orlov
// allocator spread them over groups. File systems without the flag
// (tmpfs, xfs) refuse it, which changes nothing.
func MakeServicesDir(root string) error {
	dir := filepath.Join(root, "svc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	if flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS); err == nil && flags&fsTopdirFL == 0 {
		unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|fsTopdirFL))
	}
	return nil
}
