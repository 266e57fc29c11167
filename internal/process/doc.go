// Package process starts, watches and stops every child process of the
// supervisor.
//
// One goroutine, [Reaper.Run], owns every wait: it is the process's child
// subreaper, waits for any child on SIGCHLD and hands each exit to the [Proc]
// that registered the pid. Nothing else in the supervisor may call wait4,
// waitid or exec.Cmd.Wait, because a global wait loop and per-child waits
// steal each other's statuses (research/deps.md §12). So there must be one
// Reaper per process, and every child, service or hook, is started through
// [Reaper.Start].
//
// One more goroutine, the Reaper's output poller, reads the stdout and stderr
// pipes of every child through one epoll instance, so that a silent child
// costs no goroutine.
package process
