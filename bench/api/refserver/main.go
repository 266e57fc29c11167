// Command refserver is the bare net/http reference of bench/api/run.sh: it
// answers GET /services with the bytes of one file, read and framed once at
// start, so that tend's gateway can be compared with the least any Go HTTP
// server can do for the same response.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	bodyFile := flag.String("body", "", "file holding the body of GET /services (tend's own /services)")
	flag.Parse()
	if *bodyFile == "" {
		log.Fatal("refserver: -body is required")
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatalf("refserver: %v", err)
	}
	ctype := []string{"application/json"}
	clen := []string{strconv.Itoa(len(body))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = ctype
		h["Content-Length"] = clen
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("refserver: %v", err)
	}
	// run.sh reads the address from this line.
	fmt.Printf("refserver listening addr=%s bytes=%d\n", ln.Addr(), len(body))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.Serve(ln))
}
