package rumor

import (
	"encoding/json"
	"testing"
)

func TestServiceCfgKeepsWholeNumbers(t *testing.T) {
	in := Rumor{Kind: KindService, Service: &Service{
		MemberID: "m", ServiceGroup: "db.default", Incarnation: 1,
		Cfg: map[string]any{"port": int64(5432), "ratio": 0.5, "nested": map[string]any{"n": int64(7)}, "list": []any{int64(1)}},
	}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Rumor
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	c := out.Service.Cfg
	if _, ok := c["port"].(int64); !ok {
		t.Fatalf("port decoded as %T", c["port"])
	}
	if _, ok := c["ratio"].(float64); !ok {
		t.Fatalf("ratio decoded as %T", c["ratio"])
	}
	if _, ok := c["nested"].(map[string]any)["n"].(int64); !ok {
		t.Fatalf("nested number decoded as %T", c["nested"].(map[string]any)["n"])
	}
	if _, ok := c["list"].([]any)[0].(int64); !ok {
		t.Fatalf("list number decoded as %T", c["list"].([]any)[0])
	}
}
