package httpgw

import (
	"log/slog"
	"net/http"
	"strconv"
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
	body  []byte
}

var (
	ctypeJSON = []string{"application/json"}
	ctypeTOML = []string{"application/toml"}
	ctypeHTML = []string{"text/html; charset=utf-8"}
)

func newResponse(ctype []string, body []byte) response {
	return response{
		code:  http.StatusOK,
		ctype: ctype,
		clen:  []string{strconv.Itoa(len(body))},
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
	if r.ctype != nil {
		h["Content-Type"] = r.ctype
		h["Content-Length"] = r.clen
	}
	w.WriteHeader(r.code)
	if len(r.body) > 0 && req.Method != http.MethodHead {
		_, _ = w.Write(r.body) // the client went away; nothing to do
	}
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
		sc := &svcCache{parent: c, svc: &c.snap.Services[i]}
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
