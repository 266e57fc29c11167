package supcfg

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/tend-sh/tend/internal/spec"
)

// validate checks what no single value can tell on its own: relations
// between options. Each error names the option the user most likely got
// wrong: of two related options, the one set explicitly (the other kept its
// default), or the one set by the stronger layer.
func validate(c *Config, opts []option, src sources) error {
	opt := func(key string) *option { return byYAML(opts, key) }
	set := func(key string) bool { _, ok := src[key]; return ok }
	// blame picks which of two related options an error is about: b when it
	// was given explicitly, else a.
	blame := func(a, b string) string {
		if set(b) {
			return b
		}
		return a
	}

	if c.Root == "" {
		return errors.New("root: no default without HOME or XDG_DATA_HOME: set --root or TEND_ROOT")
	}

	if c.MaxBackoff < c.MinBackoff {
		const lo, hi = "service_min_backoff_period", "service_max_backoff_period"
		if blame(lo, hi) == hi {
			return fmt.Errorf("%s: must be >= the min backoff period (%s)", src.of(opt(hi)), formatDuration(c.MinBackoff))
		}
		return fmt.Errorf("%s: must be <= the max backoff period (%s)", src.of(opt(lo)), formatDuration(c.MaxBackoff))
	}

	if c.UpdatePeriod <= 0 {
		return fmt.Errorf("%s: must be more than 0", src.of(opt("service_update_period")))
	}

	if c.LogMaxBytes > spec.MaxLogBytes {
		return fmt.Errorf("%s: %s is over the limit of 1TiB", src.of(opt("service_log_max_bytes")), formatBytes(c.LogMaxBytes))
	}
	if c.LogBackups > spec.MaxLogBackups {
		return fmt.Errorf("%s: %d is over the limit of %d", src.of(opt("service_log_backups")), c.LogBackups, spec.MaxLogBackups)
	}

	for _, t := range []struct {
		key    string
		th     Threshold
		strict bool // lower == upper would leave no band between failing and passing
	}{
		{"monitor.healthy.diskfreebytes", c.Monitor.DiskFreeBytes, false},
		{"monitor.healthy.diskfreeinodes", c.Monitor.DiskFreeInodes, false},
		{"monitor.healthy.servicesdown", c.Monitor.ServicesDown, true},
	} {
		lo, hi := t.key+".lower", t.key+".upper"
		bad := t.th.Upper < t.th.Lower
		if t.strict {
			bad = t.th.Upper != 0 && t.th.Upper <= t.th.Lower
		}
		if !bad {
			continue
		}
		rel := ">="
		if t.strict {
			rel = ">"
		}
		if blame(lo, hi) == hi {
			return fmt.Errorf("%s: must be %s lower (%d)", src.of(opt(hi)), rel, t.th.Lower)
		}
		rel = strings.NewReplacer(">=", "<=", ">", "<").Replace(rel)
		return fmt.Errorf("%s: must be %s upper (%d)", src.of(opt(lo)), rel, t.th.Upper)
	}

	// TLS files go together, as in Habitat: a certificate needs its key, and
	// verifying clients needs the server to speak TLS in the first place.
	h := c.HTTP
	switch {
	case h.Certs != "" && h.Key == "":
		return fmt.Errorf("%s: needs a key as well (--key, TEND_HTTP_KEY or http.key)", src.of(opt("http.certs")))
	case h.Key != "" && h.Certs == "":
		return fmt.Errorf("%s: needs certificates as well (--certs, TEND_HTTP_CERTS or http.certs)", src.of(opt("http.key")))
	case h.CACerts != "" && h.Certs == "":
		return fmt.Errorf("%s: needs --key and --certs as well", src.of(opt("http.ca_certs")))
	}
	switch {
	case c.CtlServerCertificate != "" && c.CtlServerKey == "":
		return fmt.Errorf("%s: needs a key as well (--ctl-server-key, TEND_CTL_SERVER_KEY or ctl_server_key)", src.of(opt("ctl_server_certificate")))
	case c.CtlServerKey != "" && c.CtlServerCertificate == "":
		return fmt.Errorf("%s: needs a certificate as well (--ctl-server-certificate, TEND_CTL_SERVER_CERTIFICATE or ctl_server_certificate)", src.of(opt("ctl_server_key")))
	case c.CtlClientCACertificate != "" && c.CtlServerCertificate == "":
		return fmt.Errorf("%s: needs --ctl-server-certificate and --ctl-server-key as well", src.of(opt("ctl_client_ca_certificate")))
	}

	return checkListeners(c, opts, src)
}

// checkListeners refuses two listeners on one port, which would otherwise
// fail later with a bare "address already in use" that names neither.
func checkListeners(c *Config, opts []option, src sources) error {
	type listener struct{ key, what, addr string }
	var ls []listener
	if !c.HTTP.Disable {
		ls = append(ls, listener{"listen_http", "the HTTP gateway", c.ListenHTTP})
	}
	ls = append(ls, listener{"listen_ctl", "the control gateway", c.ListenCtl},
		listener{"listen_gossip", "the gossip listener", c.ListenGossip})
	if c.Monitor.Listen != "" {
		ls = append(ls, listener{"monitor.listen", "the monitoring listener", c.Monitor.Listen})
	}
	for i, a := range ls {
		for _, b := range ls[i+1:] {
			if !overlap(a.addr, b.addr) {
				continue
			}
			// Blame the one given explicitly; if both were, the later one.
			culprit, other := b, a
			if _, ok := src[b.key]; !ok {
				culprit, other = a, b
			}
			return fmt.Errorf("%s: %s is also the address of %s", src.of(byYAML(opts, culprit.key)), culprit.addr, other.what)
		}
	}
	return nil
}

// overlap reports whether two listen addresses would claim the same port:
// same port (not 0, which picks a free one) and the same host, or either
// listening on every address.
func overlap(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	return ha == hb || wildcard(ha) || wildcard(hb)
}

func wildcard(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
