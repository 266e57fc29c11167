// Package ctl is the control gateway (SPEC §10): the channel through which
// the tend CLI asks a running supervisor to load, unload, start and stop
// services, and the like. It holds both ends: the server (NewHandler,
// NewServer) and the Client.
//
// # Wire protocol
//
// HTTP/1.1 with JSON over TCP (127.0.0.1:9632 by default), or over TLS
// with Habitat's --ctl-server-* flags (tls.go), chosen over
// Habitat's framed protobuf so the gateway can be read with curl and needs no
// code generation. Every request carries the supervisor's secret
// (ROOT/sup/NAME/CTL_SECRET) as `Authorization: Bearer SECRET`; it is checked
// before anything else, and a request without it gets 401 and nothing more.
//
// Every response body is NDJSON (application/x-ndjson): zero or more
// progress lines, then exactly one final line.
//
//	{"progress":"installing core/redis"}
//	{"progress":"The redis.default service was successfully loaded"}
//	{"ok":true,"result":null}
//
// or, for a failure,
//
//	{"error":{"kind":"conflict","message":"service redis is already loaded"}}
//
// Progress lines are flushed as they happen, so the CLI can show them while
// the operation runs. Once the first one is sent the status is 200 whatever
// the outcome; an operation that ends before any progress gets the status of
// its error kind (404, 409, 400, 401, 413, 500) with the same final line.
package ctl
