package rumor

import "github.com/tend-sh/tend/internal/api"

// SysOf is what a member says of where it listens, from its own Sys.
func SysOf(s api.Sys) Sys {
	return Sys{
		IP: s.IP, Hostname: s.Hostname, GossipIP: s.GossipIP, GossipPort: s.GossipPort,
		HTTPGatewayIP: s.HTTPGatewayIP, HTTPGatewayPort: s.HTTPGatewayPort,
		CtlGatewayIP: s.CtlGatewayIP, CtlGatewayPort: s.CtlGatewayPort,
	}
}
