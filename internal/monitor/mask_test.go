package monitor

import "testing"

func TestMask(t *testing.T) {
	secrets := []string{"hunter2-gateway-token"}
	for _, tc := range []struct{ in, want string }{
		{"health check OK", "health check OK"},
		{"exited with code 1", "exited with code 1"},
		{"loaded core/redis/7.0.5/20230529163640 from /hab/pkgs/core/redis", "loaded core/redis/7.0.5/20230529163640 from /hab/pkgs/core/redis"},
		// A configured secret, wherever it is.
		{"curl -H 'X: hunter2-gateway-token' failed", "curl -H 'X: ****oken' failed"},
		// Values after secret-looking keys.
		{"token=abc", "token=****"},
		{"HAB_SUP_GATEWAY_AUTH_TOKEN=abcdefghijkl0123", "HAB_SUP_GATEWAY_AUTH_TOKEN=****0123"},
		{`{"api_key": "k3y-v4lue-1234567", "ok": true}`, `{"api_key": "****4567", "ok": true}`},
		{"password: pa55word!", "password: ****"},
		{"X-API-Key: 0123456789abcdef", "X-API-Key: ****cdef"},
		{"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload", "Authorization: Bearer ****load"},
		{"sent bearer abcdefghijklmnop to upstream", "sent bearer ****mnop to upstream"},
		{"secretKey=AKIAXXXXXXXX1234", "secretKey=****1234"},
		{"Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic ****ZA=="},
		// Ids and prose are not secrets: a member id is shown in full
		// everywhere else, and "basic" is a word before it is a scheme.
		{"member 4f9c2e1ab7d34c0e9f1a2b3c4d5e6f70 joined", "member 4f9c2e1ab7d34c0e9f1a2b3c4d5e6f70 joined"},
		{"basic health check passed", "basic health check passed"},
		{"no-digits-but-a-very-long-hyphenated-word stays", "no-digits-but-a-very-long-hyphenated-word stays"},
		// Not keys.
		{"monkey=5 keys=3", "monkey=5 keys=3"},
		{"token", "token"},
		{"token: ", "token: "},
	} {
		if got := mask(tc.in, secrets); got != tc.want {
			t.Errorf("mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskValue(t *testing.T) {
	for in, want := range map[string]string{
		"short":            "****",
		"elevenchars":      "****",
		"twelve-chars":     "****hars",
		"ünïcödé-välüé-äö": "****é-äö",
	} {
		if got := maskValue(in); got != want {
			t.Errorf("maskValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskCleanTextDoesNotAllocate(t *testing.T) {
	s := "Mon, 29 May 2023 16:36:40 UTC: [ok] health check OK"
	if n := testing.AllocsPerRun(100, func() { _ = mask(s, []string{"some-configured-token"}) }); n != 0 {
		t.Fatalf("mask of clean text allocates %v times", n)
	}
}
