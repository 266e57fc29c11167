// Package httpgw serves Habitat's read API (the Supervisor's HTTP gateway):
// /services, /services/{svc}/{group}[/{org}][/config|/health], /census and
// /butterfly, with Habitat's JSON field names and status codes.
//
// The gateway only reads immutable api.Snapshot values; it never calls into
// the supervisor and shares no lock with it. Every JSON document is encoded
// once per snapshot (api.Snapshot.Memo) and then served as cached bytes.
package httpgw
