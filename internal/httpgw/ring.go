package httpgw

import (
	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/census"
	"github.com/tend-sh/tend/internal/rumor"
)

// censusResponse is /census: the ring's census verbatim once the ring
// exists, this member alone before.
func (c *snapCache) censusResponse() *response {
	return c.census.get(func() response {
		var v any
		if r := c.snap.Ring; r != nil && r.Census != nil {
			v = r.Census
		} else {
			v = census.Build(localInput(c.snap)).JSON()
		}
		return c.encode("census", v)
	})
}

// butterflyResponse is /butterfly, likewise.
func (c *snapCache) butterflyResponse() *response {
	return c.butterfly.get(func() response {
		var v any
		if r := c.snap.Ring; r != nil && r.Butterfly != nil {
			v = r.Butterfly
		} else {
			v = census.Butterfly(localInput(c.snap))
		}
		return c.encode("butterfly", v)
	})
}

// localInput describes a member that is not (yet) on a ring as the census
// fold's input: itself, alive, and one service rumor per loaded service, so
// the same code builds /census and /butterfly with or without a ring.
func localInput(s *api.Snapshot) census.Input {
	sys := s.Sup.Sys
	in := census.Input{
		LocalID: s.Sup.MemberID,
		Members: []census.Member{{ID: s.Sup.MemberID, Health: "alive", Address: sys.IP, Port: sys.GossipPort, Permanent: sys.Permanent}},
	}
	rsys := rumor.SysOf(sys)
	for i := range s.Services {
		svc := &s.Services[i]
		in.Rumors = append(in.Rumors, rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
			MemberID: s.Sup.MemberID, ServiceGroup: svc.ServiceGroup, Package: svc.Pkg.Ident,
			Cfg: svc.Exported, Sys: rsys, Initialized: svc.Initialized,
			Health: string(svc.Health), Up: svc.Running,
		}})
	}
	return in
}

func (c *snapCache) encode(what string, v any) response {
	b, err := marshal(v)
	if err != nil {
		c.log.Error("http gateway: encode "+what, "err", err)
		return failure
	}
	return newResponse(ctypeJSON, b)
}
