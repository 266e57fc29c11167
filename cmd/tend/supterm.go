package main

import (
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/store"
	"golang.org/x/sys/unix"
)

func supTermCmd(env *cliEnv) *cobra.Command {
	var root, name string
	var wait time.Duration
	c := &cobra.Command{Use: "term", Short: "ask the local supervisor to stop (its services stop with it)", Args: args(cobra.NoArgs)}
	c.Flags().StringVar(&root, "root", "", "tend's root directory")
	c.Flags().StringVar(&name, "override-name", "default", "the supervisor's state directory name")
	c.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for it to exit")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		lockPath := filepath.Join(rootDir(root, env.getenv), "sup", name, "LOCK")
		if !store.Held(lockPath) {
			return fmt.Errorf("supervisor not terminated: no supervisor holds %s", lockPath)
		}
		pid, err := store.ReadPID(lockPath)
		if err != nil {
			return fmt.Errorf("supervisor not terminated: %w", err)
		}
		// A pidfd pins the process, so the signal cannot hit a recycled pid
		// and its exit can be waited for without being its parent.
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			return fmt.Errorf("supervisor not terminated: pid %d: %w", pid, err)
		}
		defer unix.Close(fd)
		if err := unix.PidfdSendSignal(fd, syscall.SIGTERM, nil, 0); err != nil {
			return fmt.Errorf("supervisor not terminated: %w", err)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
			n, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds())+1)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return fmt.Errorf("waiting for pid %d: %w", pid, err)
			}
			if n > 0 {
				fmt.Fprintf(env.stdout, "Supervisor (pid %d) stopped\n", pid)
				return nil
			}
		}
		return fmt.Errorf("supervisor (pid %d) did not stop within %s", pid, wait)
	}
	return c
}
