package httpgw

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// serviceJSON is one element of /services, Habitat's ServiceQueryModel with
// its keys in Habitat's declaration order. Fields tend has no equivalent for
// hold the schema's neutral value (docs/API.md lists them).
type serviceJSON struct {
	AllPkgBinds          []pkgBindJSON     `json:"all_pkg_binds"`
	BindingMode          string            `json:"binding_mode"`
	Binds                []string          `json:"binds"`
	BldrURL              string            `json:"bldr_url"`
	Cfg                  json.RawMessage   `json:"cfg,omitempty"` // absent when redacted
	Channel              string            `json:"channel"`
	ConfigFrom           *string           `json:"config_from"`
	DesiredState         string            `json:"desired_state"`
	HealthCheck          string            `json:"health_check"`
	Hooks                hooksJSON         `json:"hooks"`
	Initialized          bool              `json:"initialized"`
	LastElectionStatus   string            `json:"last_election_status"`
	ManagerFsCfg         managerFsCfgJSON  `json:"manager_fs_cfg"`
	Pkg                  pkgJSON           `json:"pkg"`
	Process              processJSON       `json:"process"`
	LastProcessState     *lastProcessJSON  `json:"last_process_state"`
	NextRestartAt        *int64            `json:"next_restart_at"`
	RestartCount         int               `json:"restart_count"`
	RestartConfig        restartConfigJSON `json:"restart_config"`
	ServiceGroup         string            `json:"service_group"`
	SpecFile             string            `json:"spec_file"`
	SpecIdent            packageIdentJSON  `json:"spec_ident"`
	SpecIdentifier       string            `json:"spec_identifier"`
	SvcEncryptedPassword *string           `json:"svc_encrypted_password"`
	HealthCheckInterval  durationJSON      `json:"health_check_interval"`
	Sys                  sysExtendedJSON   `json:"sys"`
	Topology             string            `json:"topology"`
	UpdateStrategy       string            `json:"update_strategy"`
	UpdateCondition      string            `json:"update_condition"`
	UserConfigUpdated    bool              `json:"user_config_updated"`
}

type pkgBindJSON struct {
	Service string   `json:"service"`
	Exports []string `json:"exports"`
}

// hookJSON is a rendered hook; a hook the package does not have is null.
type hookJSON struct {
	RenderPair    string `json:"render_pair"`
	StdoutLogPath string `json:"stdout_log_path"`
	StderrLogPath string `json:"stderr_log_path"`
}

type hooksJSON struct {
	HealthCheck *hookJSON `json:"health_check"`
	Init        *hookJSON `json:"init"`
	FileUpdated *hookJSON `json:"file_updated"`
	Reconfigure *hookJSON `json:"reconfigure"`
	Suitability *hookJSON `json:"suitability"`
	PostRun     *hookJSON `json:"post_run"`
	PostStop    *hookJSON `json:"post_stop"`
	Run         *hookJSON `json:"run"`
	// Reload is gone from Habitat 2.x but its schema still lists the key;
	// tend keeps it, always null.
	Reload *hookJSON `json:"reload"`
}

type managerFsCfgJSON struct {
	SupRoot      string `json:"sup_root"`
	DataPath     string `json:"data_path"`
	SpecsPath    string `json:"specs_path"`
	MemberIDFile string `json:"member_id_file"`
	ProcLockFile string `json:"proc_lock_file"`
}

type pkgJSON struct {
	Ident                string             `json:"ident"`
	Origin               string             `json:"origin"`
	Name                 string             `json:"name"`
	Version              string             `json:"version"`
	Release              string             `json:"release"`
	Deps                 []packageIdentJSON `json:"deps"`
	Dependencies         []string           `json:"dependencies"`
	Env                  map[string]string  `json:"env"`
	Exposes              []string           `json:"exposes"`
	Exports              map[string]string  `json:"exports"`
	Path                 string             `json:"path"`
	SvcPath              string             `json:"svc_path"`
	SvcConfigPath        string             `json:"svc_config_path"`
	SvcConfigInstallPath string             `json:"svc_config_install_path"`
	SvcDataPath          string             `json:"svc_data_path"`
	SvcFilesPath         string             `json:"svc_files_path"`
	SvcStaticPath        string             `json:"svc_static_path"`
	SvcVarPath           string             `json:"svc_var_path"`
	SvcPIDFile           string             `json:"svc_pid_file"`
	SvcRun               string             `json:"svc_run"`
	SvcUser              string             `json:"svc_user"`
	SvcGroup             string             `json:"svc_group"`
	// ShutdownSignal is left out when tend's signal is not one of the
	// schema's names (the key is optional there).
	ShutdownSignal  string `json:"shutdown_signal,omitempty"`
	ShutdownTimeout int64  `json:"shutdown_timeout"`
}

// packageIdentJSON is an ident split in its parts; a fuzzy ident has null
// version and release.
type packageIdentJSON struct {
	Origin  string  `json:"origin"`
	Name    string  `json:"name"`
	Version *string `json:"version"`
	Release *string `json:"release"`
}

type processJSON struct {
	PID          *int   `json:"pid"`
	State        string `json:"state"`
	StateEntered int64  `json:"state_entered"`
}

type lastProcessJSON struct {
	PID               *int   `json:"pid"`
	TerminationReason string `json:"termination_reason"`
	TerminatedAt      int64  `json:"terminated_at"`
}

type durationJSON struct {
	Secs  int64 `json:"secs"`
	Nanos int64 `json:"nanos"`
}

type restartConfigJSON struct {
	MinBackoffPeriod durationJSON `json:"min_backoff_period"`
	MaxBackoffPeriod durationJSON `json:"max_backoff_period"`
	CooldownPeriod   durationJSON `json:"cooldown_period"`
}

type sysExtendedJSON struct {
	Version         string `json:"version"`
	MemberID        string `json:"member_id"`
	IP              string `json:"ip"`
	Hostname        string `json:"hostname"`
	GossipIP        string `json:"gossip_ip"`
	GossipPort      int    `json:"gossip_port"`
	CtlGatewayIP    string `json:"ctl_gateway_ip"`
	CtlGatewayPort  int    `json:"ctl_gateway_port"`
	HTTPGatewayIP   string `json:"http_gateway_ip"`
	HTTPGatewayPort int    `json:"http_gateway_port"`
	Permanent       bool   `json:"permanent"`
}

// Habitat's enums, and the value tend shows when its own value is not one of them.
var (
	terminationReasons = []string{
		"package_updated", "init_hook_failed", "run_hook_failed", "app_config_updated",
		"init_hook_updated", "run_hook_updated", "post_run_hook_updated",
	}
	shutdownSignals = []string{
		"INT", "ILL", "ABRT", "FPE", "KILL", "SEGV", "TERM", "HUP", "QUIT",
		"ALRM", "USR1", "USR2", "CHLD",
	}
)

// habitatDefaultShutdownTimeout is Habitat's default when a package sets none.
const habitatDefaultShutdownTimeout = 8 * time.Second

// lastElectionStatus is the service's group's election status as
// Habitat's service JSON names it; "None" when the group runs none here.
func lastElectionStatus(s *api.Snapshot, sg string) string {
	if s.Ring == nil {
		return "None"
	}
	for _, e := range s.Ring.Elections {
		if e.Group != sg {
			continue
		}
		switch e.Status {
		case "Finished":
			return "ElectionFinished"
		case "NoQuorum":
			return "ElectionNoQuorum"
		case "Running":
			return "ElectionInProgress"
		}
	}
	return "None"
}

// serviceObject renders one service. cfg is its encoded config; it is left
// out when redacted. A service whose spec could not be read still renders
// from what is known, down, with neutral values elsewhere.
func serviceObject(s *api.Snapshot, svc *api.Service, cfg []byte, redact bool) serviceJSON {
	o := serviceJSON{
		AllPkgBinds:        make([]pkgBindJSON, 0, len(svc.AllPkgBinds)),
		BindingMode:        oneOf(svc.BindingMode, "strict", "relaxed"),
		Binds:              orEmpty(svc.Binds),
		DesiredState:       "Down",
		HealthCheck:        healthCheck(svc.Health),
		Hooks:              hooks(svc.Hooks),
		Initialized:        svc.Initialized,
		LastElectionStatus: lastElectionStatus(s, svc.ServiceGroup),
		ManagerFsCfg: managerFsCfgJSON{
			SupRoot:      s.Sup.StateDir,
			DataPath:     s.Sup.DataPath,
			SpecsPath:    s.Sup.SpecsPath,
			MemberIDFile: s.Sup.MemberIDFile,
			ProcLockFile: s.Sup.LockFile,
		},
		Pkg:              pkg(svc),
		Process:          process(svc),
		LastProcessState: lastProcess(svc.LastExit),
		RestartCount:     svc.RestartCount,
		RestartConfig: restartConfigJSON{
			MinBackoffPeriod: duration(s.Sup.MinBackoff),
			MaxBackoffPeriod: duration(s.Sup.MaxBackoff),
			CooldownPeriod:   duration(s.Sup.Cooldown),
		},
		ServiceGroup:        svc.ServiceGroup,
		SpecFile:            svc.SpecFile,
		SpecIdent:           specIdent(svc),
		SpecIdentifier:      svc.SpecIdent,
		HealthCheckInterval: duration(svc.HealthInterval),
		Sys: sysExtendedJSON{
			Version:         s.Sup.Version,
			MemberID:        s.Sup.MemberID,
			IP:              s.Sup.Sys.IP,
			Hostname:        s.Sup.Sys.Hostname,
			GossipIP:        s.Sup.Sys.GossipIP,
			GossipPort:      s.Sup.Sys.GossipPort,
			CtlGatewayIP:    s.Sup.Sys.CtlGatewayIP,
			CtlGatewayPort:  s.Sup.Sys.CtlGatewayPort,
			HTTPGatewayIP:   s.Sup.Sys.HTTPGatewayIP,
			HTTPGatewayPort: s.Sup.Sys.HTTPGatewayPort,
			Permanent:       s.Sup.Sys.Permanent,
		},
		Topology:          oneOf(svc.Topology, "standalone", "leader"),
		UpdateStrategy:    oneOf(svc.UpdateStrategy, "none", "at-once", "rolling"),
		UpdateCondition:   oneOf(svc.UpdateCondition, "latest", "track-channel"),
		UserConfigUpdated: svc.UserConfigUpdated,
	}
	if !redact {
		o.Cfg = cfg
	} else {
		o.Pkg.Env = redactedEnv(o.Pkg.Env)
	}
	if svc.DesiredUp {
		o.DesiredState = "Up"
	}
	for _, b := range svc.AllPkgBinds {
		o.AllPkgBinds = append(o.AllPkgBinds, pkgBindJSON{Service: b.Service, Exports: orEmpty(b.Exports)})
	}
	if !svc.NextRestart.IsZero() {
		at := svc.NextRestart.Unix()
		o.NextRestartAt = &at
	}
	return o
}

// redactedValue stands for a RUNTIME_ENVIRONMENT value when redacted: the
// variables are listed (what a service is given is no secret) but their
// values, often passwords and URLs with credentials, are not.
const redactedValue = "<redacted>"

func redactedEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k := range env {
		out[k] = redactedValue
	}
	return out
}

// oneOf returns v when it is one of the allowed values, else the first one
// (Habitat's default), so the output always validates.
func oneOf(v string, allowed ...string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return allowed[0]
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func healthCheck(h api.Health) string {
	switch h {
	case api.HealthOK:
		return "Ok"
	case api.HealthWarning:
		return "Warning"
	case api.HealthCritical:
		return "Critical"
	}
	return "Unknown"
}

func hooks(m map[string]api.Hook) hooksJSON {
	get := func(name string) *hookJSON {
		h, ok := hookNamed(m, name)
		if !ok {
			return nil
		}
		return &hookJSON{RenderPair: h.Path, StdoutLogPath: h.StdoutPath, StderrLogPath: h.StderrPath}
	}
	return hooksJSON{
		HealthCheck: get("health-check"),
		Init:        get("init"),
		FileUpdated: get("file-updated"),
		Reconfigure: get("reconfigure"),
		Suitability: get("suitability"),
		PostRun:     get("post-run"),
		PostStop:    get("post-stop"),
		Run:         get("run"),
	}
}

// hookNamed finds a hook by its file name ("health-check"), or by the JSON
// spelling ("health_check") should the core use that.
func hookNamed(m map[string]api.Hook, name string) (api.Hook, bool) {
	if h, ok := m[name]; ok {
		return h, true
	}
	h, ok := m[strings.ReplaceAll(name, "-", "_")]
	return h, ok
}

func pkg(svc *api.Service) pkgJSON {
	p := &svc.Pkg
	out := pkgJSON{
		Ident:           p.Ident,
		Origin:          p.Origin,
		Name:            p.Name,
		Version:         p.Version,
		Release:         p.Release,
		Deps:            make([]packageIdentJSON, 0, len(p.Deps)),
		Dependencies:    orEmpty(p.Deps),
		Env:             orEmptyMap(p.Env),
		Exposes:         orEmpty(p.Exposes),
		Exports:         orEmptyMap(p.Exports),
		Path:            p.Path,
		SvcPath:         p.SvcPath,
		SvcConfigPath:   p.SvcConfigPath,
		SvcDataPath:     p.SvcDataPath,
		SvcFilesPath:    p.SvcFilesPath,
		SvcStaticPath:   p.SvcStaticPath,
		SvcVarPath:      p.SvcVarPath,
		SvcPIDFile:      p.SvcPIDFile,
		SvcRun:          p.SvcRun,
		SvcUser:         p.SvcUser,
		SvcGroup:        p.SvcGroup,
		ShutdownSignal:  shutdownSignal(p.ShutdownSignal),
		ShutdownTimeout: int64(shutdownTimeout(svc) / time.Second),
	}
	if out.Name == "" {
		out.Name = svc.Name
	}
	// Habitat renders templates into config_install beside config; tend
	// keeps the same layout under the service directory.
	if p.SvcPath != "" {
		out.SvcConfigInstallPath = strings.TrimSuffix(p.SvcPath, "/") + "/config_install"
	}
	for _, d := range p.Deps {
		out.Deps = append(out.Deps, parseIdent(d))
	}
	return out
}

func shutdownSignal(sig string) string {
	if sig == "" {
		return "TERM"
	}
	sig = strings.TrimPrefix(strings.ToUpper(sig), "SIG")
	if slices.Contains(shutdownSignals, sig) {
		return sig
	}
	return ""
}

// shutdownTimeout is the spec's value, else the package's, else Habitat's default.
func shutdownTimeout(svc *api.Service) time.Duration {
	switch {
	case svc.ShutdownTimeout > 0:
		return svc.ShutdownTimeout
	case svc.Pkg.ShutdownTimeout > 0:
		return svc.Pkg.ShutdownTimeout
	}
	return habitatDefaultShutdownTimeout
}

func process(svc *api.Service) processJSON {
	p := processJSON{State: "down", StateEntered: epoch(svc.StateEntered)}
	if svc.Running {
		p.State = "up"
		if svc.PID > 0 {
			pid := svc.PID
			p.PID = &pid
		}
	}
	return p
}

// lastProcess is Habitat's last_process_state. An exit whose reason is not
// one of Habitat's (a process that simply ended) is reported as
// run_hook_failed, the reason Habitat gives when the run hook's process dies.
// A stop that was asked for is null: none of Habitat's reasons fits it
// (its schema keeps the field for restarts), and run_hook_failed would
// blame the service for what an operator did.
func lastProcess(e *api.Exit) *lastProcessJSON {
	if e == nil || e.Reason == api.ExitStopped {
		return nil
	}
	l := &lastProcessJSON{TerminationReason: "run_hook_failed", TerminatedAt: epoch(e.At)}
	if slices.Contains(terminationReasons, e.Reason) {
		l.TerminationReason = e.Reason
	}
	if e.PID > 0 {
		pid := e.PID
		l.PID = &pid
	}
	return l
}

// specIdent splits the ident the service was loaded with. A service loaded
// from a package directory has a path there; it then names the exact
// package it runs.
func specIdent(svc *api.Service) packageIdentJSON {
	if svc.SpecIdent == "" || strings.HasPrefix(svc.SpecIdent, "/") {
		if svc.Pkg.Ident != "" {
			return parseIdent(svc.Pkg.Ident)
		}
		return packageIdentJSON{Origin: svc.Pkg.Origin, Name: svc.Name}
	}
	return parseIdent(svc.SpecIdent)
}

// parseIdent splits "origin/name[/version[/release]]".
func parseIdent(ident string) packageIdentJSON {
	parts := strings.SplitN(ident, "/", 4)
	var p packageIdentJSON
	switch len(parts) {
	case 1:
		p.Name = parts[0]
		return p
	case 4:
		p.Release = &parts[3]
		fallthrough
	case 3:
		p.Version = &parts[2]
	}
	p.Origin, p.Name = parts[0], parts[1]
	return p
}

// duration is Rust's std::time::Duration as serde writes it.
func duration(d time.Duration) durationJSON {
	if d < 0 {
		d = 0
	}
	return durationJSON{Secs: int64(d / time.Second), Nanos: int64(d % time.Second)}
}

// epoch is seconds since the Unix epoch, 0 for an unknown time.
func epoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
