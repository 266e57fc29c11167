// Package cgroup finds every process of a service, however it was started,
// so that a service stops with all its descendants and a supervisor that
// was killed can find everything its predecessor left running.
//
// Where the host has a writable cgroup v2 hierarchy, each service gets its
// own cgroup under one subtree of tend's, ROOT/sup/NAME/CGROUP names it, and
// its children are born in it (clone3 with CLONE_INTO_CGROUP): membership is
// exact, whatever a descendant does (setsid, double fork, exec env -i).
//
// Elsewhere, or with cgroups turned off, a service's processes are found in
// /proc: those whose environment carries the service's marker
// (TEND_SERVICE_ID=MEMBER/NAME.GROUP), the run process named by the service's
// PID file (pid and start time, so a run hook that cleared its environment
// is still known), and every descendant of these by parent links. The
// supervisor is the child subreaper, so orphans are re-parented to it
// rather than to init, and keep their marker.
package cgroup
