// Command refserver is the bare Go floor for the monitoring benchmark: it
// answers /healthy and /ready with the same bytes and headers as tend.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address")
	flag.Parse()
	text := func(body string) http.HandlerFunc {
		b := []byte(body)
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			w.Write(b)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /healthy", text("healthy\n"))
	mux.Handle("GET /ready", text("ready\n"))
	log.Fatal(http.ListenAndServe(*addr, mux))
}
