package tmpl

import (
	"errors"

	"github.com/mailgun/raymond/v2"
)

// stateKey holds the render state in raymond's private data frame. The ']'
// makes it unreachable from a template: @[...] cannot contain one.
const stateKey = "tend]render"

// renderState is one Render's bookkeeping, reached by helpers through the
// data frame so that a Template shared by goroutines keeps no mutable
// state of its own.
type renderState struct {
	root map[string]any // the normalised data, for pkgPathFor
	lim  limits

	// produced is the output accounted so far: what printing helpers wrote,
	// with each finished block counted once as a whole (see run). Content
	// outside every block is not counted; it is bounded by the source.
	produced int
	steps    int
}

// String keeps the state invisible if a template ever printed it.
func (*renderState) String() string { return "" }

func stateOf(o *raymond.Options) *renderState {
	if o == nil {
		// raymond passes a nil *Options when a helper gets one argument too
		// many; Parse's arity check should make that impossible.
		panic(errors.New("helper called with the wrong number of arguments"))
	}
	st, _ := o.DataFrame().Get(stateKey).(*renderState)
	if st == nil {
		panic(errors.New("internal: render state missing"))
	}
	return st
}

func (st *renderState) step() {
	st.steps++
	if st.steps > st.lim.steps {
		panic(ErrTooMuchWork)
	}
}

func (st *renderState) emit(n int) {
	st.produced += n
	if st.produced > st.lim.output {
		panic(ErrOutputTooLarge)
	}
}

// run evaluates a block body once and counts its whole output, replacing
// what the helpers inside it counted: each byte of output is counted once
// however deeply blocks nest, and a runaway loop is stopped as soon as the
// total passes the output limit.
func (st *renderState) run(body func() string) string {
	start := st.produced
	s := body()
	st.produced = start
	st.emit(len(s))
	return s
}
