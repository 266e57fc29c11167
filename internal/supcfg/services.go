package supcfg

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/spec"
)

// The services list is checked here only as far as the file can tell
// (syntax, allowed words, duplicates), so that a typo is reported with its
// line before anything starts. Whether the package exists, and which
// service a path names, `sup run` checks next (cmd/tend/startup.go); the
// rest (templates, binds) is the manager's to say when it loads them.

var (
	allowedTopology  = []string{"standalone", "leader"}
	allowedStrategy  = []string{"none", "at-once", "rolling"}
	allowedCondition = []string{"latest", "track-channel"}
	allowedBinding   = []string{"strict", "relaxed"}
)

// identRE is origin/name[/version[/release]].
var identRE = regexp.MustCompile(`^[A-Za-z0-9_-]+/[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+){0,2}$`)

// bindRE is NAME:SVC.GROUP[@ORG], as `svc load --bind` takes it.
var bindRE = regexp.MustCompile(`^[A-Za-z0-9_-]+:[^.@:\s]+\.[^.@:\s]+(@[^.@:\s]+)?$`)

// services decodes the `services:` list.
func (r *fileReader) services(v *yaml.Node) ([]api.LoadRequest, error) {
	if isNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, r.errorf(v, "services: want a list")
	}
	out := make([]api.LoadRequest, 0, len(v.Content))
	names := map[string]int{} // service name -> line of its first entry
	for i, item := range v.Content {
		item = deref(item)
		at := fmt.Sprintf("services[%d]", i)
		if item.Kind != yaml.MappingNode {
			return nil, r.errorf(item, "%s: want a mapping with at least pkg", at)
		}
		req, err := r.service(item, at)
		if err != nil {
			return nil, err
		}
		if name := serviceName(req.Pkg); name != "" {
			if first, dup := names[name]; dup {
				return nil, r.errorf(item, "%s: service %s is already listed at line %d", at, name, first)
			}
			names[name] = item.Line
		}
		out = append(out, req)
	}
	return out, nil
}

// service decodes one item of the list.
func (r *fileReader) service(m *yaml.Node, at string) (api.LoadRequest, error) {
	// Force: the file describes what must run, so it wins over a spec stored
	// by an earlier run, as Habitat's `hab sup run PKG` always forces.
	req := api.LoadRequest{Force: true}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		key := at + "." + k.Value
		if first, dup := seen[k.Value]; dup {
			return req, r.errorf(k, "%s: given twice (first at line %d)", key, first)
		}
		seen[k.Value] = k.Line
		if !slices.Contains(serviceKeys, k.Value) {
			msg := fmt.Sprintf("field %s not found", key)
			if s := closest(k.Value, serviceKeys); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return req, r.errorf(k, "%s", msg)
		}
		if isNull(v) {
			continue
		}
		if k.Value == "binds" {
			binds, err := r.binds(v, key)
			if err != nil {
				return req, err
			}
			req.Binds = binds
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return req, r.errorf(v, "%s: want a single value", key)
		}
		s := strings.TrimSpace(v.Value)
		var err error
		switch k.Value {
		case "pkg":
			req.Pkg, err = r.pkg(s)
		case "group":
			req.Group, err = checkName(s)
		case "topology":
			req.Topology, err = oneOf(s, allowedTopology)
		case "strategy":
			req.Strategy, err = oneOf(s, allowedStrategy)
		case "update_condition":
			req.UpdateCondition, err = oneOf(s, allowedCondition)
		case "binding_mode":
			req.BindingMode, err = oneOf(s, allowedBinding)
		case "health_check_interval":
			req.HealthCheckInterval, err = seconds(s, false)
		case "shutdown_timeout":
			req.ShutdownTimeout, err = seconds(s, true)
		case "log_max_bytes":
			req.LogMaxBytes, err = logMaxBytes(s)
		case "log_backups":
			req.LogBackups, err = logBackups(s)
		case "hook_timeout":
			req.HookTimeout, err = seconds(s, false)
		case "health_check_grace":
			req.HealthCheckGrace, err = seconds(s, true)
		}
		if err != nil {
			return req, r.errorf(v, "%s: %w", key, err)
		}
	}
	if req.Pkg == "" {
		return req, r.errorf(m, "%s: pkg is missing", at)
	}
	return req, nil
}

var serviceKeys = []string{"pkg", "group", "topology", "strategy", "update_condition",
	"binds", "binding_mode", "health_check_interval", "shutdown_timeout", "log_max_bytes", "log_backups", "hook_timeout", "health_check_grace"}

// closest returns the candidate nearest to name if it is at most two edits
// away (a likely typo), else "".
func closest(name string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(name, c); d < bestD && d < len(name) {
			best, bestD = c, d
		}
	}
	return best
}

// pkg accepts an ident or a path to a package directory; a relative path is
// taken from the config file's directory, so a file and the packages next
// to it can move together.
func (r *fileReader) pkg(s string) (string, error) {
	if isPath(s) {
		if !filepath.IsAbs(s) {
			s = filepath.Join(r.dir, s)
		}
		return filepath.Clean(s), nil
	}
	if !identRE.MatchString(s) {
		return "", fmt.Errorf("%q is not origin/name[/version[/release]] or a path (/..., ./...)", s)
	}
	return s, nil
}

func isPath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || s == "." || s == ".."
}

// serviceName is the name a package will run under, as far as the ident
// tells; "" for a path, whose name is known only once it is read.
func serviceName(pkg string) string {
	if isPath(pkg) {
		return ""
	}
	return strings.Split(pkg, "/")[1]
}

func (r *fileReader) binds(v *yaml.Node, key string) ([]string, error) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []string
	for _, it := range items {
		it = deref(it)
		if it.Kind != yaml.ScalarNode {
			return nil, r.errorf(it, "%s: each bind must be NAME:SVC.GROUP[@ORG]", key)
		}
		b := strings.TrimSpace(it.Value)
		if !bindRE.MatchString(b) {
			return nil, r.errorf(it, "%s: %q is not NAME:SVC.GROUP[@ORG]", key, b)
		}
		out = append(out, b)
	}
	return out, nil
}

func oneOf(s string, allowed []string) (string, error) {
	if !slices.Contains(allowed, s) {
		return "", fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, ", "))
	}
	return s, nil
}

// seconds reads a whole number of seconds, bare or as a duration ("10s",
// "1m"), for the LoadRequest fields that count seconds.
func seconds(s string, zeroOK bool) (*int, error) {
	d, err := parseDuration(s)
	if err != nil {
		return nil, err
	}
	if d%time.Second != 0 {
		return nil, fmt.Errorf("%q: must be whole seconds", s)
	}
	if d == 0 && !zeroOK {
		return nil, fmt.Errorf("%q: must be more than 0", s)
	}
	n := int(d / time.Second)
	return &n, nil
}

// logMaxBytes reads a service's log rotation size, as the supervisor's
// service_log_max_bytes.
func logMaxBytes(s string) (*uint64, error) {
	n, err := parseBytes(s)
	if err != nil {
		return nil, err
	}
	if n > spec.MaxLogBytes {
		return nil, fmt.Errorf("%q is over the limit of 1TiB", s)
	}
	return &n, nil
}

// logBackups reads how many rotated log files a service keeps.
func logBackups(s string) (*int, error) {
	n, err := parseCount(s)
	if err != nil {
		return nil, err
	}
	if n > spec.MaxLogBackups {
		return nil, fmt.Errorf("%d is over the limit of %d", n, spec.MaxLogBackups)
	}
	i := int(n)
	return &i, nil
}
