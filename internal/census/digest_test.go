package census

import (
	"reflect"
	"testing"
)

// TestDigest: a group's digest changes exactly when its views would.
func TestDigest(t *testing.T) {
	const sg = "redis.default"
	base := Build(ring())
	same := Build(ring())
	if base.Group(sg).Digest() != same.Group(sg).Digest() {
		t.Fatal("equal inputs give different digests")
	}
	if !reflect.DeepEqual(base.Group(sg).SvcData("m1"), same.Group(sg).SvcData("m1")) {
		t.Fatal("equal inputs give different svc data")
	}
	changes := map[string]func(in *Input){
		"member health":       func(in *Input) { in.Members[1].Health = "suspect" },
		"service incarnation": func(in *Input) { in.Rumors[1] = svcR("m2", sg, 5, map[string]any{"port": int64(7000)}) },
		"service unloaded":    func(in *Input) { in.Rumors = append(in.Rumors, goneR("m2", sg, 1)) },
		"new member":          func(in *Input) { in.Rumors = append(in.Rumors, svcR("m6", sg, 1, nil)) },
		"config version":      func(in *Input) { in.Rumors = append(in.Rumors, cfgR(sg, 3, "x = 1\n")) },
		"file version":        func(in *Input) { in.Rumors = append(in.Rumors, fileR(sg, "ca.pem", 3, "CD")) },
		"new file":            func(in *Input) { in.Rumors = append(in.Rumors, fileR(sg, "b.pem", 1, "x")) },
		"gossip address":      func(in *Input) { in.Members[1].Address = "192.168.9.9" },
		"departed":            func(in *Input) { in.Rumors = append(in.Rumors, depR("m2")) },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			in := ring()
			change(&in)
			if Build(in).Group(sg).Digest() == base.Group(sg).Digest() {
				t.Fatal("digest did not change")
			}
		})
	}
	t.Run("other group", func(t *testing.T) {
		in := ring()
		in.Rumors = append(in.Rumors, fileR("web.prod@acme", "index.html", 2, "<b>"))
		if Build(in).Group(sg).Digest() != base.Group(sg).Digest() {
			t.Fatal("a change in another group changed the digest")
		}
	})
}
