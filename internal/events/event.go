package events

import "time"

// Event types.
const (
	ServiceState   = "service.state"   // a service entered a phase (up, down, backing off, ...)
	ServiceHealth  = "service.health"  // its health check result changed
	ServiceRestart = "service.restart" // a restart is scheduled, after Backoff
	ServiceConfig  = "service.config"  // its config changed: Action says what was done, Reason why
	Control        = "control"         // a control operation (svc load, stop, ...) ended
	RingMember     = "ring.member"     // a ring member's health changed
)

// Event is one thing that happened to the supervisor, as /events and
// `tend sup events` show it. Fields a type does not use are left out.
type Event struct {
	ID   uint64    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Service is the service group the event is about.
	Service string `json:"service,omitempty"`
	// Member is the ring member a ring.member event is about.
	Member string `json:"member,omitempty"`
	// State is what was entered: the phase of service.state, the health
	// of service.health, the member's health of ring.member.
	State string `json:"state,omitempty"`
	// From is what State was before.
	From string `json:"from,omitempty"`
	PID  int    `json:"pid,omitempty"`
	// Backoff is how long a service.restart waits before the next start;
	// NextStart is when that is.
	Backoff   *float64  `json:"backoff_s,omitempty"`
	NextStart time.Time `json:"next_start,omitzero"`
	// Action is what a service.config did (restarted, reconfigured,
	// re-rendered, failed) or which control operation ran (load, stop, ...).
	Action string `json:"action,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Output is the health check's output excerpt of service.health.
	Output string `json:"output,omitempty"`
	// OK says whether a control operation succeeded; Error why not.
	OK    *bool  `json:"ok,omitempty"`
	Error string `json:"error,omitempty"`
	// Text says it in one line, for people.
	Text string `json:"text"`

	raw []byte // the event as JSON, encoded once as it is published
}

// JSON is the event encoded, compact, without a final newline. An event
// published on a Stream was encoded once, there: every follower sends the
// same bytes.
func (e *Event) JSON() []byte {
	if e.raw != nil {
		return e.raw
	}
	return e.encode(make([]byte, 0, 256))
}

// Stream limits: the events kept for Last-Event-ID, and so how far behind
// a reader may fall before it is dropped.
const Keep = 1024

// Stream is the supervisor's event stream.
type Stream = Broadcaster[Event]

// NewStream returns an event stream keeping the last Keep events. It
// numbers and times each event as it is published.
func NewStream() *Stream {
	return New(Limits{Keep: Keep}, nil, func(e *Event, id uint64) {
		e.ID = id
		if e.At.IsZero() {
			e.At = time.Now()
		}
		e.raw = nil
		e.raw = e.JSON()
	})
}

// Seconds is d as the float a Backoff holds.
func Seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}
