"""Counts the system calls of `perf script` output (raw_syscalls:sys_enter
with call chains) made by the first process's threads up to a cut-off
time, by call site: the first frame in tend's code. Arguments: CUT N CASE TOP."""
import collections
import re
import sys

cut, n, case, top = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
NAMES = {0: 'read', 1: 'write', 3: 'close', 5: 'fstat', 16: 'ioctl', 72: 'fcntl', 74: 'fsync',
         83: 'mkdir', 91: 'fchmod', 217: 'getdents64', 233: 'epoll_ctl', 257: 'openat',
         258: 'mkdirat', 262: 'newfstatat', 263: 'unlinkat', 264: 'renameat', 267: 'readlinkat',
         293: 'pipe2', 306: 'syncfs', 435: 'clone3', 14: 'rt_sigprocmask', 107: 'geteuid',
         254: 'inotify_add_watch', 61: 'wait4', 247: 'waitid', 62: 'kill', 202: 'futex'}
head = re.compile(r'\s*(\S+)\s+(\d+)/(\d+)\s+([\d.]+):\s+NR (\d+)')
frame = re.compile(r'\s+[0-9a-f]+ (\S+)')
sites, main, cur = collections.Counter(), None, None


def flush(c):
    if c is None:
        return
    nr, frames = c
    ours = [f for f in frames if 'tend-sh/tend' in f or f.startswith('main.')]
    if not ours:
        return  # the Go runtime's own
    if any('allProcs' in f or 'markerOf' in f for f in ours):
        return  # the /proc sweep: grows with the host's processes
    site = ours[0].replace('github.com/tend-sh/tend/internal/', '')
    sites['%-12s %s' % (NAMES.get(nr, str(nr)), site)] += 1


for line in sys.stdin:
    m = head.match(line)
    if m:
        flush(cur)
        cur = None
        if main is None:
            main = m.group(2)
        if float(m.group(4)) > cut:
            break
        if m.group(2) == main:
            cur = (int(m.group(5)), [])
        continue
    m = frame.match(line)
    if m and cur is not None:
        cur[1].append(m.group(1))
flush(cur)
total = sum(sites.values())
print('%s: %d system calls from tend code, %.1f per service' % (case, total, total / n))
for k, v in sites.most_common(top):
    print('  %6.2f  %s' % (v / n, k))
