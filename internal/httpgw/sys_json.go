package httpgw

import "github.com/tend-sh/tend/internal/api"

// sysBasicJSON is butterfly's SysInfo, the sys object of census members and
// service rumors (no member_id, version or permanent, unlike /services).
type sysBasicJSON struct {
	IP              string `json:"ip"`
	Hostname        string `json:"hostname"`
	GossipIP        string `json:"gossip_ip"`
	GossipPort      int    `json:"gossip_port"`
	HTTPGatewayIP   string `json:"http_gateway_ip"`
	HTTPGatewayPort int    `json:"http_gateway_port"`
	CtlGatewayIP    string `json:"ctl_gateway_ip"`
	CtlGatewayPort  int    `json:"ctl_gateway_port"`
}

func sysBasic(s api.Sys) sysBasicJSON {
	return sysBasicJSON{
		IP:              s.IP,
		Hostname:        s.Hostname,
		GossipIP:        s.GossipIP,
		GossipPort:      s.GossipPort,
		HTTPGatewayIP:   s.HTTPGatewayIP,
		HTTPGatewayPort: s.HTTPGatewayPort,
		CtlGatewayIP:    s.CtlGatewayIP,
		CtlGatewayPort:  s.CtlGatewayPort,
	}
}
