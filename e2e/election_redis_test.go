package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// redisPkg is a Redis service in core-plans style: followers replicate
// the leader named by the census (svc.leader's sys.ip and exported port).
func redisPkg(t *testing.T, server string) string {
	return pkgDir(t, map[string]string{
		"IDENT":        "test/eredis/7.0.0/20260101000000",
		"default.toml": "port = 6379\n",
		"EXPORTS":      "port=port\n",
		"config/redis.conf": "port {{cfg.port}}\nbind 0.0.0.0\nprotected-mode no\ndaemonize no\n" +
			"dir {{pkg.svc_data_path}}\n" +
			"{{~#if svc.me.follower}}{{~#with svc.leader}}\nreplicaof {{sys.ip}} {{cfg.port}}\n{{~/with}}{{~/if}}\n",
		"hooks/run": "#!/bin/sh\nexec 2>&1\nexec " + server + " {{pkg.svc_config_path}}/redis.conf\n",
	})
}

func redisCLI(port int, args ...string) (string, error) {
	out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", fmt.Sprint(port)}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestElectionRedisReplication: three members run Redis in leader
// topology; a key written on the leader is read on both followers; with
// the leader's supervisor and its redis killed, the new leader accepts
// writes that reach the remaining follower.
func TestElectionRedisReplication(t *testing.T) {
	t.Parallel()
	server := debianTool(t, "redis-server", "/usr/bin/redis-server")
	if _, err := exec.LookPath("redis-cli"); err != nil {
		netnsUnusable(t, "redis-cli (redis-tools) is not installed")
	}
	sups := ringOf(t, 3)
	port := map[string]int{}
	for _, s := range sups {
		p := freePort(t)
		port[s.memberID()] = p
		userTOML(t, s.root, "eredis", fmt.Sprintf("port = %d\n", p))
		logsOnFailure(t, s.root, "eredis")
	}
	dir := redisPkg(t, server)
	for _, s := range sups {
		s.mustTend("svc", "load", dir, "--topology", "leader")
	}
	sg := "eredis.default"
	leader, _ := agreeOnLeader(t, sups, sg, 60*time.Second, "", -1)

	// write sets key on the leader (retrying until it is up and a
	// master), then waits for every follower to read it.
	write := func(leader string, followers []*sup, key, val string) {
		t.Helper()
		waitUntil(t, 60*time.Second, "SET on the leader "+leader, func() (bool, string) {
			out, err := redisCLI(port[leader], "set", key, val)
			return err == nil && out == "OK", out
		})
		for _, f := range followers {
			waitUntil(t, 60*time.Second, "the key replicated to "+f.memberID(), func() (bool, string) {
				out, err := redisCLI(port[f.memberID()], "get", key)
				return err == nil && out == val, out
			})
		}
	}
	write(leader, without(sups, bySup(sups, leader)), "k1", "written-on-the-leader")

	victim := bySup(sups, leader)
	victim.kill()
	for _, pid := range procsWith(victim.root) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	rest := without(sups, victim)
	newLeader, _ := agreeOnLeader(t, rest, sg, 120*time.Second, leader, -1)
	write(newLeader, without(rest, bySup(rest, newLeader)), "k2", "written-on-the-new-leader")
}
