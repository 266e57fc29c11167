package service

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/census"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/spec"
)

// corpusDir holds seven real Habitat plans (habitat-sh/core-plans),
// written for the Habitat 1.x Supervisor; shared/ sits beside the
// repository.
const corpusDir = "../../../shared/habitat-plans"

// corpusMember is one member of the census the corpus renders over: the
// service's own group has members m1 (this one) .. mN at 10.0.1.x, each
// bind's group members b1 .. bN at 10.0.2.x.
type corpusMember struct{ id, ip, host string }

func corpusMembers(prefix, net string, n int) []corpusMember {
	var ms []corpusMember
	for i := 1; i <= n; i++ {
		ms = append(ms, corpusMember{fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("10.0.%s.%d", net, i), fmt.Sprintf("host-%s%d", prefix, i)})
	}
	return ms
}

// corpusPlan is what the test knows of one plan: what plan.sh declares
// (exports, binds), the user.toml it writes, and the lines that must come
// out whole.
type corpusPlan struct {
	exports map[string]string
	binds   []string // each bound to the group NAME.default
	user    string
	// want maps a file (config/x, hooks/x) to lines its output must hold,
	// each as a whole line (blanks around it aside), given the service's
	// members and the bound groups' members.
	want func(svc, bound []corpusMember) map[string][]string
}

// corpusPlans: user.toml values differ from default.toml's, so a line
// holding one shows the user's layer reached the template.
var corpusPlans = map[string]corpusPlan{
	"etcd": {
		exports: map[string]string{"client-port": "etcd-client-end", "server-port": "etcd-server-end"},
		user:    "etcd-name = \"corpus-etcd\"\netcd-client-end = 12379\netcd-server-end = 12380\netcd-initial-cluster-token = \"tok-corpus\"\n",
		want: func(svc, _ []corpusMember) map[string][]string {
			nodes := ""
			for _, m := range svc {
				nodes += m.host + "=${proto}://" + m.ip + ":12380,"
			}
			return map[string][]string{
				"config/conf.yml": {"etcd-name: corpus-etcd", "etcd-host-ip: 10.0.1.1", "etcd-client-end: 12379",
					"etcd-server-end: 12380", "etcd-initial-cluster-token: tok-corpus", "etcd-http-proto: https"},
				"hooks/run": {`nodes="` + nodes + `"`, `export ETCD_NAME="host-m1"`, `export ETCD_INITIAL_CLUSTER_TOKEN="tok-corpus"`,
					`export ETCD_LISTEN_PEER_URLS="${proto}://${listen_ip}:12380"`, `proto="https"`},
			}
		},
	},
	"haproxy": {
		exports: map[string]string{"port": "front-end.port", "status-port": "status.port"},
		binds:   []string{"backend"},
		user:    "maxconn = 4242\nhttpchk = \"GET /corpus-health\"\n[front-end]\nport = 8088\n[status]\nenabled = true\nport = 9099\nuser = \"corpus\"\npassword = \"s3cret\"\n",
		want: func(_, bound []corpusMember) map[string][]string {
			lines := []string{"maxconn 4242", "mode http", "bind *:8088", "option httpchk GET /corpus-health",
				"backend default", "listen  stats", "bind *:9099", "stats auth corpus:s3cret", "stats uri  /haproxy-stats"}
			for _, m := range bound {
				lines = append(lines, "server "+m.ip+" "+m.ip+":8081")
			}
			return map[string][]string{"config/haproxy.conf": lines}
		},
	},
	"memcached": {}, // default.toml only: its run hook lives in plan.sh
	"mysql": {
		exports: map[string]string{"port": "port", "password": "app_password", "username": "app_username", "server_id": "server_id"},
		user:    "port = 13306\nbind = \"0.0.0.0\"\nroot_password = \"rootpw-corpus\"\napp_username = \"corpus_app\"\napp_password = \"apppw\"\nserver_id = 7\n",
		want: func(_, _ []corpusMember) map[string][]string {
			return map[string][]string{
				"config/my.cnf":     {"port            = 13306", "bind-address = 0.0.0.0", "server-id     = 7", "binlog-format = ROW", "[mysqld]"},
				"config/client.cnf": {"password = rootpw-corpus"},
				"config/init.sql": {"DELETE FROM mysql.user WHERE USER LIKE '';",
					"-- Disable remote root access by default for a standalone mysql node",
					"UPDATE mysql.user SET authentication_string=PASSWORD('rootpw-corpus'), password_expired='N', host='127.0.0.1' WHERE user = 'root';",
					"CREATE USER 'corpus_app'@'%' IDENTIFIED BY 'apppw';", "GRANT ALL PRIVILEGES ON *.* TO 'corpus_app'@'%';",
					"FLUSH PRIVILEGES;"},
				"hooks/health-check": {`echo "[mysql] status: LEADER my_ip: 10.0.1.1"`},
			}
		},
	},
	"nginx": {
		exports: map[string]string{"port": "http.listen.port"},
		user:    "worker_processes = 3\n[events]\nworker_connections = 777\n[http]\nkeepalive_timeout = 42\n[http.listen]\nport = 8099\n",
		want: func(_, _ []corpusMember) map[string][]string {
			return map[string][]string{
				"config/nginx.conf": {"worker_processes  3;", "worker_connections  777;", "keepalive_timeout  42;",
					"listen       8099;", "sendfile       on;", "server {"},
			}
		},
	},
	"postgresql": {
		exports: map[string]string{"port": "port", "superuser_name": "superuser.name", "superuser_password": "superuser.password"},
		user:    "port = 15432\n[superuser]\nname = \"corpus_admin\"\npassword = \"pw-corpus\"\n[replication]\nname = \"corpus_repl\"\nenable = true\n",
		want: func(svc, _ []corpusMember) map[string][]string {
			hba := []string{"host    replication     corpus_repl     0.0.0.0/0               md5"}
			for _, m := range svc {
				hba = append(hba, "host    replication     corpus_repl     "+m.ip+"/32           md5")
			}
			return map[string][]string{
				"config/pg_hba.conf":     hba,
				"config/postgresql.conf": {"port = 15432", "max_connections = 100"},
				"config/pwfile":          {"pw-corpus"},
				"config/recovery.conf":   {"primary_conninfo = 'user=corpus_repl host= port=15432 application_name=postgresql-default sslmode=prefer sslcompression=1'"},
				"hooks/init":             {"initdb -U corpus_admin \\"},
				"config/functions.sh":    {"pg_isready -U corpus_admin -h  -p 15432"},
			}
		},
	},
	"prometheus": {
		exports: map[string]string{"prom_ds_http": "listening_port"},
		binds:   []string{"targets"},
		user:    "listening_port = 9191\n",
		want: func(_, bound []corpusMember) map[string][]string {
			lines := []string{"- job_name:  'from_hab_ring'", "static_configs:", "- targets: ['localhost:9090']"}
			for _, m := range bound {
				lines = append(lines, "- targets: ['"+m.ip+":9100']")
			}
			return map[string][]string{
				"config/prometheus.yml": lines,
				"hooks/run":             {`--web.listen-address=":9191" \`},
			}
		},
	},
}

// TestCorpusRendersAsWritten renders every hook and config template of the
// seven plans in the package's (default) dialect, with default.toml under
// a user.toml and a census of one and of three members, the data built as
// the runner builds it. Each output is checked line by line: no "{{" left,
// no comment line of the template joined to anything else, a hook's #!
// still first, and the plan's lines with the user's values present whole.
// Rendered as handlebars.js renders (the Handlebars dialect), haproxy.conf
// and init.sql lose line breaks, and postgresql's {{ #if}} did not parse.
func TestCorpusRendersAsWritten(t *testing.T) {
	dirs, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatalf("the plans should be in shared/ beside the repository: %v", err)
	}
	var seen []string
	for _, d := range dirs {
		if d.IsDir() {
			seen = append(seen, d.Name())
		}
	}
	if len(seen) != len(corpusPlans) {
		t.Fatalf("corpus has plans %v; the test knows %d", seen, len(corpusPlans))
	}
	for _, name := range seen {
		plan, ok := corpusPlans[name]
		if !ok {
			t.Fatalf("plan %s: not known to the test", name)
		}
		for _, n := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/%d-members", name, n), func(t *testing.T) {
				renderCorpusPlan(t, name, plan, n)
			})
		}
	}
}

func renderCorpusPlan(t *testing.T, name string, plan corpusPlan, n int) {
	p, srcs := corpusPackage(t, name, plan)
	svc, bound := corpusMembers("m", "1", n), corpusMembers("b", "2", n)
	root := t.TempDir()
	userTOML := filepath.Join(root, "user", name, "config", "user.toml")
	if err := os.MkdirAll(filepath.Dir(userTOML), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(userTOML, []byte(plan.user), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Runner{d: Deps{
		Root: root, MemberID: "m1", Getenv: func(string) string { return "" },
		Sys: map[string]any{"ip": "10.0.1.1", "hostname": "host-m1", "member_id": "m1", "version": "0.1.0",
			"gossip_ip": "0.0.0.0", "gossip_port": 9638, "http_gateway_ip": "0.0.0.0", "http_gateway_port": 9631,
			"ctl_gateway_ip": "127.0.0.1", "ctl_gateway_port": 9632, "permanent": false},
	}}
	st := &state{spec: spec.New("core/" + name), pkg: p, paths: newSvcPaths(root, name)}
	cfg, _, err := r.config(st)
	if err != nil {
		t.Fatal(err)
	}
	st.ring = corpusView(name, plan, exported(p, cfg), svc, bound)
	tpl, err := parseTemplates(p)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	out, err := tpl.render(r.data(st, cfg))
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var want map[string][]string
	if plan.want != nil {
		want = plan.want(svc, bound)
	}
	for file, src := range srcs {
		var got string
		if h, ok := strings.CutPrefix(file, "hooks/"); ok {
			got = out.hooks[h]
		} else {
			got = out.configs[strings.TrimPrefix(file, "config/")]
		}
		checkCorpusOutput(t, name+"/"+file, src, got, want[file])
	}
	for file := range want {
		if _, ok := srcs[file]; !ok {
			t.Errorf("%s/%s: expected in the plan, not there", name, file)
		}
	}
}

// checkCorpusOutput checks one rendered file, line by line.
func checkCorpusOutput(t *testing.T, file, src, got string, want []string) {
	t.Helper()
	if strings.HasPrefix(src, "#!") && !strings.HasPrefix(got, "#!") {
		t.Errorf("%s: the #! line is no longer first: %.60q", file, got)
	}
	lines := strings.Split(got, "\n")
	trimmed := make([]string, len(lines))
	for i, l := range lines {
		trimmed[i] = strings.TrimSpace(l)
	}
	literal := map[string]bool{} // the template's lines with no mustache
	var comments []string
	for l := range strings.SplitSeq(src, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.Contains(l, "{{") || strings.Contains(l, "}}") {
			continue
		}
		literal[l] = true
		if isCommentLine(l) {
			comments = append(comments, l)
		}
	}
	for i, l := range lines {
		if strings.Contains(l, "{{") {
			t.Errorf("%s:%d: mustache left in the output: %q", file, i+1, l)
		}
		if literal[trimmed[i]] {
			continue
		}
		for _, c := range comments {
			if strings.HasPrefix(trimmed[i], c) || strings.HasSuffix(trimmed[i], c) {
				t.Errorf("%s:%d: comment line %q glued to other text: %q", file, i+1, c, l)
			}
		}
	}
	for _, w := range want {
		if !slices.Contains(trimmed, w) {
			t.Errorf("%s: no line %q in the output:\n%s", file, w, got)
		}
	}
}

// isCommentLine reports a comment in the plans' languages (shell, conf,
// YAML, SQL) with some text in it; "#" alone or "#!" starts are not
// worth matching.
func isCommentLine(l string) bool {
	for _, m := range []string{"#", "--"} {
		if rest, ok := strings.CutPrefix(l, m); ok {
			return !strings.HasPrefix(l, "#!") && len(strings.Trim(rest, "#- ")) > 0
		}
	}
	return false
}

// corpusPackage reads a plan's default.toml, config/ and hooks/ into a
// package as pkg.Read would from an installed copy (every file under
// hooks/ is kept: the plans still carry the old health_check name). It
// returns the package and the template sources by file.
func corpusPackage(t *testing.T, name string, plan corpusPlan) (*pkg.Package, map[string]string) {
	t.Helper()
	dir := filepath.Join(corpusDir, name)
	p := &pkg.Package{
		Ident: ident.Ident{Origin: "core", Name: name, Version: "1.0.0", Release: "20260101000000"},
		Path:  "/hab/pkgs/core/" + name + "/1.0.0/20260101000000",
		Hooks: map[string]string{}, ConfigTemplates: map[string]string{},
		Exports: plan.exports, ShutdownSignal: "TERM",
	}
	for _, b := range plan.binds {
		if p.Binds == nil {
			p.Binds = map[string][]string{}
		}
		p.Binds[b] = []string{"port"}
	}
	var err error
	if p.DefaultTOML, err = os.ReadFile(filepath.Join(dir, "default.toml")); err != nil {
		t.Fatal(err)
	}
	srcs := map[string]string{}
	for _, sub := range []string{"config", "hooks"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join(dir, sub), path)
			srcs[sub+"/"+filepath.ToSlash(rel)] = string(b)
			if sub == "hooks" {
				p.Hooks[rel] = string(b)
			} else {
				p.ConfigTemplates[filepath.ToSlash(rel)] = string(b)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return p, srcs
}

// corpusView is the ring's view for the service, made as the manager
// makes it (viewFor) from a census of its members and its binds' groups.
func corpusView(name string, plan corpusPlan, cfg map[string]any, svc, bound []corpusMember) RingView {
	in := census.Input{LocalID: "m1"}
	add := func(m corpusMember, sg string, cfg map[string]any) {
		in.Members = append(in.Members, census.Member{ID: m.id, Health: census.Alive, Address: m.ip, Port: 9638, Incarnation: 1})
		in.Rumors = append(in.Rumors, rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
			MemberID: m.id, ServiceGroup: sg, Package: "core/" + strings.TrimSuffix(sg, ".default") + "/1.0.0/20260101000000",
			Incarnation: 1, Cfg: cfg, Initialized: true, Health: "OK", Up: true,
			Sys: rumor.Sys{IP: m.ip, Hostname: m.host, GossipIP: m.ip, GossipPort: 9638, HTTPGatewayIP: m.ip,
				HTTPGatewayPort: 9631, CtlGatewayIP: "127.0.0.1", CtlGatewayPort: 9632},
		}})
	}
	for _, m := range svc {
		add(m, name+".default", cfg)
	}
	for _, b := range plan.binds {
		for _, m := range bound {
			add(m, b+".default", map[string]any{"port": int64(8081), "metric-http-port": int64(9100)})
		}
	}
	c := census.Build(in)
	g := c.Group(name + ".default")
	v := RingView{Svc: func() map[string]any { return g.SvcData("m1") }}
	for _, b := range plan.binds {
		if v.Binds == nil {
			v.Binds = map[string]any{}
		}
		v.Binds[b] = c.Group(b + ".default").BindData()
	}
	return v
}
