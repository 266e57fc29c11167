package httpgw

import "net/http"

// usageJSON is /usage: what the service's processes use, all of them
// together (the run hook's process and every descendant in its cgroup).
// Habitat's service object allows no key beyond its own
// (additionalProperties: false), so these figures are a route of their own
// under the service rather than fields of it.
type usageJSON struct {
	// CPUSeconds is user and system CPU time since the service's cgroup
	// was made (cpu.stat's usage_usec).
	CPUSeconds *float64 `json:"cpu_seconds"`
	// MemoryBytes is the memory charged to the cgroup now
	// (memory.current, or the members' RssAnon where the memory
	// controller is not delegated).
	MemoryBytes *uint64 `json:"memory_bytes"`
}

// serveUsage reads the figures at request time: a cgroup's figures change
// without a new snapshot, so the answer is not cached with it. A
// service without a cgroup (the subreaper fallback, or a cgroup that cannot
// be read) answers 200 with nulls: the service is loaded, its usage is
// not known.
func (g *gateway) serveUsage(w http.ResponseWriter, r *http.Request) {
	sc := g.lookup(w, r)
	if sc == nil {
		return
	}
	var body usageJSON
	if read := sc.svc.Usage; read != nil {
		if u, ok := read(); ok {
			body.CPUSeconds, body.MemoryBytes = &u.CPUSeconds, &u.MemoryBytes
		}
	}
	b, err := marshal(body)
	if err != nil {
		g.log.Error("http gateway: encode usage", "service_group", sc.svc.ServiceGroup, "err", err)
		failure.write(w, r)
		return
	}
	resp := newResponse(ctypeJSON, b)
	resp.write(w, r)
}
