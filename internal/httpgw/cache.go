package httpgw

import (
	"hash/crc64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tend-sh/tend/internal/api"
)

// response is a fully encoded answer, built once and written many times.
// Its header values are shared between requests: net/http only reads them,
// and a middleware that appends to them gets a fresh slice (len == cap).
type response struct {
	code  int
	ctype []string
	clen  []string
	etag  []string // the body's entity tag, quoted
	body  []byte
}

var (
	ctypeJSON = []string{"application/json"}
	ctypeTOML = []string{"application/toml"}
	ctypeHTML = []string{"text/html; charset=utf-8"}
)

// The entity tag is a checksum of the body (and its length), so a poller
// that sends it back in If-None-Match gets a 304 without the body while
// nothing changed: a census at 200 members is ~150 kB, and scripts and
// load balancers poll it every second. The same bytes give the same tag on
// every supervisor and after a restart.
var etagTable = crc64.MakeTable(crc64.ECMA)

func newResponse(ctype []string, body []byte) response {
	return response{
		code:  http.StatusOK,
		ctype: ctype,
		clen:  []string{strconv.Itoa(len(body))},
		etag:  []string{`"` + strconv.FormatUint(crc64.Checksum(body, etagTable), 16) + "-" + strconv.Itoa(len(body)) + `"`},
		body:  body,
	}
}

// failure is an encoding error: 500 with an empty body, like every error of
// the gateway.
var failure = response{code: http.StatusInternalServerError}

// write sends the response; a HEAD request gets the headers only (net/http
// would drop the body anyway, this spares copying it).
func (r *response) write(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	if r.etag != nil {
		h["Etag"] = r.etag
		if inm := req.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, r.etag[0]) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if r.ctype != nil {
		h["Content-Type"] = r.ctype
		h["Content-Length"] = r.clen
	}
	w.WriteHeader(r.code)
	if len(r.body) > 0 && req.Method != http.MethodHead {
		_, _ = w.Write(r.body) // the client went away; nothing to do
	}
}

// etagMatch is If-None-Match's weak comparison (RFC 9110 13.1.2): "*" or
// any listed tag equal to etag, a W/ prefix ignored.
func etagMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// lazy computes a response on first use.
type lazy struct {
	once sync.Once
	r    response
}

func (l *lazy) get(f func() response) *response {
	l.once.Do(func() { l.r = f() })
	return &l.r
}

// snapCache is what one gateway encoded from one snapshot. It lives in the
// snapshot's memo, so it goes away with the snapshot; everything in it is
// computed on first use and read-only after.
type snapCache struct {
	snap   *api.Snapshot
	redact bool
	log    *slog.Logger

	indexOnce sync.Once
	services  []*svcCache
	bySG      map[string]*svcCache

	all, census, butterfly lazy
}

// svcCache is the encoded forms of one service.
type svcCache struct {
	parent *snapCache
	svc    *api.Service

	cfgOnce sync.Once
	cfgJSON []byte // "null" when the config is unknown or cannot be encoded

	object, config, configTOML lazy
}

func (g *gateway) cache(s *api.Snapshot) *snapCache {
	c := s.Memo(g.memoKey, func() any {
		return &snapCache{snap: s, redact: g.redact, log: g.log}
	}).(*snapCache)
	c.indexOnce.Do(c.buildIndex)
	return c
}

func (c *snapCache) buildIndex() {
	c.services = make([]*svcCache, len(c.snap.Services))
	c.bySG = make(map[string]*svcCache, len(c.snap.Services))
	for i := range c.snap.Services {
		sc := &svcCache{parent: c, svc: c.snap.Services[i]}
		c.services[i] = sc
		c.bySG[sc.svc.ServiceGroup] = sc
	}
}

// service returns the service whose group is exactly sg (Habitat compares
// the whole string, org included), or nil.
func (c *snapCache) service(sg string) *svcCache { return c.bySG[sg] }

// servicesResponse is /services: the array of every service object. It
// reuses each service's own encoding, so /services/{svc}/{group} and
// /services encode a service once between them.
func (c *snapCache) servicesResponse() *response {
	return c.all.get(func() response {
		size := 2
		for _, sc := range c.services {
			size += len(sc.objectResponse().body) + 1
		}
		body := make([]byte, 0, size)
		body = append(body, '[')
		for i, sc := range c.services {
			o := sc.objectResponse()
			if o.code != http.StatusOK {
				return failure
			}
			if i > 0 {
				body = append(body, ',')
			}
			body = append(body, o.body...)
		}
		body = append(body, ']')
		return newResponse(ctypeJSON, body)
	})
}

func (sc *svcCache) objectResponse() *response {
	return sc.object.get(func() response {
		body, err := marshal(serviceObject(sc.parent.snap, sc.svc, sc.cfg(), sc.parent.redact))
		if err != nil {
			sc.parent.log.Error("http gateway: encode service", "service_group", sc.svc.ServiceGroup, "err", err)
			return failure
		}
		return newResponse(ctypeJSON, body)
	})
}

// cfg is the service's merged config as JSON, encoded once for both the
// service object and /config.
func (sc *svcCache) cfg() []byte {
	sc.cfgOnce.Do(func() {
		sc.cfgJSON = []byte("null")
		if sc.svc.Cfg == nil {
			return
		}
		b, err := marshalConfig(sc.svc.Cfg)
		if err != nil {
			sc.parent.log.Error("http gateway: encode config", "service_group", sc.svc.ServiceGroup, "err", err)
			return
		}
		sc.cfgJSON = b
	})
	return sc.cfgJSON
}
