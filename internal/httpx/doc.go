// Package httpx holds the HTTP plumbing shared by tend's listeners (the
// Habitat-compatible gateway and the monitoring listener): token auth, server
// timeouts, TLS set-up, request instrumentation and body limits.
package httpx
