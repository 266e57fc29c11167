package manager

import (
	"fmt"
	"github.com/tend-sh/tend/internal/api"

	"github.com/tend-sh/tend/internal/events"
)

// Events is the supervisor's event stream, for the gateways to follow.
// It is closed once Run has stopped every service.
func (m *Manager) Events() *events.Stream { return m.events }

// emit publishes e; it never blocks (runners call it from their loop).
func (m *Manager) emit(e events.Event) { m.events.Publish(e) }

// control publishes the end of a control operation: op on target (a
// package, service group or member), and how it went.
func (m *Manager) control(op, target string, err error) {
	ok := err == nil
	e := events.Event{Type: events.Control, Action: op, OK: &ok, Text: op}
	if target != "" {
		e.Text += " " + target
	}
	if err != nil {
		e.Error = err.Error()
		e.Text += " failed: " + err.Error()
	} else {
		e.Text += ": done"
	}
	m.emit(e)
}

// memberEvent says a ring member's health changed.
func (m *Manager) memberEvent(id, health, from string) {
	e := events.Event{Type: events.RingMember, Member: id, State: health, From: from,
		Text: fmt.Sprintf("member %s is %s", id, health)}
	if from != "" {
		e.Text += " (was " + from + ")"
	}
	m.emit(e)
}

// Logs is the recent output of the service pkgArg names ("redis",
// "core/redis"), for svc logs and the gateway's /logs. It is closed when
// the service is unloaded or replaced.
func (m *Manager) Logs(pkgArg string) (*events.Broadcaster[api.LogLine], error) {
	e, err := m.find(pkgArg)
	if err != nil {
		return nil, err
	}
	if e.runner == nil {
		return nil, api.Errorf(api.NotFound, "service %s has no output: %s", e.name, e.specErr)
	}
	return e.runner.Output(), nil
}
