package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// Imports flow one way: gateways -> manager -> service -> hook -> process;
// log files (logfile, then safefs) are below service and hook; gossip's
// rumors (rumor, then jsonenc) are below ring, census and api.
// An edge that reached into the core, or the core into an edge, fails here.
func TestImportsFlowOneWay(t *testing.T) {
	const mod = "github.com/tend-sh/tend/internal/"
	forbidden := map[string][]string{
		"httpgw":  {"manager", "service", "process", "hook"},
		"httpx":   {"manager", "service", "api"},
		"monitor": {"manager", "service", "process", "hook"},
		"ctl":     {"manager", "service", "process"},
		"manager": {"httpgw", "httpx", "monitor", "ctl"},
		"service": {"manager", "httpgw", "monitor", "ctl"},
		"hook":    {"service", "manager"},
		"process": {"hook", "service", "manager"},
		"logfile": {"hook", "service", "manager", "process"},
		"safefs":  {"logfile", "hook", "service", "manager", "process"},
		"api":     {"manager", "service", "process", "hook"},
		"tmpl":    {"service", "manager"},
		"svccfg":  {"service", "manager"},
		"cgroup":  {"process", "hook", "service", "manager", "api"},
		"hart":    {"pkg", "process", "hook", "service", "manager"},
		"webui":   {"api", "manager", "service", "process", "hook", "httpgw", "monitor"},
		// Gossiped rumors are read by ring, census, election and the
		// gateways' documents, never the other way round (issue 11 item 9).
		"rumor":   {"api", "ring", "census", "election", "manager", "service", "httpgw", "ctl"},
		"jsonenc": {"rumor", "census", "events", "api"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, b := range bad {
			for _, d := range deps {
				if d == mod+b {
					t.Errorf("%s imports %s", pkg, b)
				}
			}
		}
	}
}
