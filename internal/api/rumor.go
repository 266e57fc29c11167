package api

import "github.com/tend-sh/tend/internal/rumor"

// Rumor is what this member says in its service rumors of where it
// listens.
func (s Sys) Rumor() rumor.Sys {
	return rumor.Sys{
		IP: s.IP, Hostname: s.Hostname, GossipIP: s.GossipIP, GossipPort: s.GossipPort,
		HTTPGatewayIP: s.HTTPGatewayIP, HTTPGatewayPort: s.HTTPGatewayPort,
		CtlGatewayIP: s.CtlGatewayIP, CtlGatewayPort: s.CtlGatewayPort,
	}
}
