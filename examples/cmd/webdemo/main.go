// Command webdemo is the program behind the example "web" package: a tiny
// HTTP server configured by a rendered TOML-ish file, and its own health
// check client (so the example needs nothing but tend and this binary).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	config := flag.String("config", "", "config file with lines key = value")
	check := flag.String("check", "", "health-check this URL and exit 0 OK, 1 WARNING, 2 CRITICAL")
	flag.Parse()
	if *check != "" {
		os.Exit(healthCheck(*check))
	}
	cfg, err := readConfig(*config)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	addr := cfg["listen"] + ":" + cfg["port"]
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, cfg["message"]) })
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		if _, err := os.Stat(cfg["unhealthy_file"]); cfg["unhealthy_file"] != "" && err == nil {
			http.Error(w, "unhealthy file present", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	fmt.Printf("webdemo listening on %s\n", addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func readConfig(path string) (map[string]string, error) {
	cfg := map[string]string{"listen": "127.0.0.1", "port": "8080", "message": "hello"}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), "=")
		if ok {
			cfg[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return cfg, s.Err()
}

func healthCheck(url string) int {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Println("CRITICAL:", err)
		return 2
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Println("WARNING: status", resp.StatusCode)
		return 1
	}
	fmt.Println("OK")
	return 0
}
