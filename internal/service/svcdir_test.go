package service

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestServicesDirIsTopOfTrees(t *testing.T) {
	root := t.TempDir()
	if err := MakeServicesDir(root); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(filepath.Join(root, "svc"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Skipf("file system of %s keeps no inode flags: %v", root, err)
	}
	if flags&fsTopdirFL == 0 {
		// Only file systems that know the flag keep it (ext2/3/4).
		var st unix.Statfs_t
		if unix.Statfs(root, &st) == nil && st.Type == unix.EXT4_SUPER_MAGIC {
			t.Fatalf("svc/ on ext4 lacks FS_TOPDIR_FL: flags %#x", flags)
		}
		t.Skipf("file system type %#x does not keep FS_TOPDIR_FL", st.Type)
	}
	// A second start finds it made and marked.
	if err := MakeServicesDir(root); err != nil {
		t.Fatal(err)
	}
}
