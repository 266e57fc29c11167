package ctl

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// ErrTLS is wrapped in every error that means the two ends do not agree on
// TLS: one speaks it and the other not, a certificate is missing or not
// trusted. Unlike ErrUnreachable the supervisor is there; the CLI's
// settings (or the gateway's) are what must change.
var ErrTLS = errors.New("control gateway TLS")

// tlsErr is a one-line message that is ErrTLS and wraps its cause.
type tlsErr struct {
	msg   string
	cause error
}

func (e *tlsErr) Error() string   { return e.msg }
func (e *tlsErr) Unwrap() []error { return []error{ErrTLS, e.cause} }

func tlsFail(cause error, format string, args ...any) error {
	return &tlsErr{msg: fmt.Sprintf(format, args...), cause: cause}
}

// tlsError turns a failed request into one line saying which end's TLS
// setting is wrong, or returns nil when err is not about TLS.
func (c *Client) tlsError(err error) error {
	if !c.tls {
		// Plain TCP to a TLS server that answered in TLS records rather
		// than with Go's "HTTP request to an HTTPS server" page (see
		// plainToTLS): an alert (0x15) or a handshake (0x16) record of
		// TLS 1.x, which the HTTP parser quotes in its error.
		msg := err.Error()
		if strings.Contains(msg, `malformed HTTP response "\x15\x03`) || strings.Contains(msg, `malformed HTTP response "\x16\x03`) {
			return c.requiresTLS(err)
		}
		return nil
	}
	// net/http turns a record header that reads "HTTP/" into an error of
	// its own, with no type to find it by.
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return tlsFail(err, "the control gateway at %s does not speak TLS: leave out --ctl-server-ca-certificate", c.addr)
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return tlsFail(err, "the certificate of the control gateway at %s is not signed by the CA given with --ctl-server-ca-certificate (x509: certificate signed by unknown authority)", c.addr)
	}
	var host x509.HostnameError
	if errors.As(err, &host) {
		return tlsFail(err, "the certificate of the control gateway at %s is not valid for %s: connect by a name it holds or set --ctl-server-name-indication", c.addr, host.Host)
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		return tlsFail(invalid, "the certificate of the control gateway at %s: %v", c.addr, invalid)
	}
	// An alert from the gateway. Go does not export the alert type on a
	// TCP connection, so its text is what there is to go by.
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		switch alert := op.Err.Error(); {
		case strings.HasSuffix(alert, "certificate required"):
			return tlsFail(err, "the control gateway at %s requires a client certificate: give --ctl-client-certificate and --ctl-client-key", c.addr)
		case strings.HasSuffix(alert, "unknown certificate authority"), strings.HasSuffix(alert, "bad certificate"):
			return tlsFail(err, "the control gateway at %s refused the client certificate: it is not signed by the gateway's --ctl-client-ca-certificate", c.addr)
		case strings.HasSuffix(alert, "certificate expired"):
			return tlsFail(err, "the control gateway at %s refused the client certificate: it has expired", c.addr)
		}
		return tlsFail(op.Err, "the control gateway at %s ended the TLS handshake: %v", c.addr, op.Err)
	}
	return nil
}

// plainToTLS recognises the answer Go's HTTPS server gives a plain HTTP
// request (400, "Client sent an HTTP request to an HTTPS server."), so
// that the CLI says what to do instead of showing a 400.
func (c *Client) plainToTLS(resp *http.Response) error {
	if c.tls || resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") == contentTypeNDJSON {
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if bytes.Contains(head, []byte("HTTP request to an HTTPS server")) {
		return c.requiresTLS(errors.New(resp.Status))
	}
	// Not that: give read what was taken.
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(head), resp.Body))
	return nil
}

func (c *Client) requiresTLS(err error) error {
	return tlsFail(err, "the control gateway at %s requires TLS: give --ctl-server-ca-certificate (or TEND_CTL_SERVER_CA_CERTIFICATE)", c.addr)
}
