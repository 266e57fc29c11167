package process

import "time"

// pauseWait bounds how long Pause waits for the poller to stop reading.
const pauseWait = 5 * time.Second

// Pause stops reading every output pipe and FIFO, leaving what was not
// read in the kernel's pipe buffers, and returns the unterminated line
// read so far of each FIFO, by path: a supervisor that is about to
// re-execute itself hands them to its successor (SetHandedOver), which
// reads on from the same FIFOs. Lines are delivered whole or not at all.
// Resume undoes it (the re-execution failed).
func (r *Reaper) Pause() map[string][]byte {
	return r.out.pause(pauseWait)
}

// Resume reads the output again after Pause.
func (r *Reaper) Resume() { r.out.resume() }

// SetHandedOver gives Adopt the unterminated lines a predecessor had read
// (Pause), so that the first line of each adopted FIFO is whole.
func (r *Reaper) SetHandedOver(partials map[string][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handed = partials
}
