package prom

import (
	"sync"
	"sync/atomic"
	"time"
)

// genClock is a coarse clock for hot paths that must not read the time: a
// generation number that a timer advances every period while someone uses
// it. A summary observer compares its shard's generation with the clock's
// (one atomic load) and, when they differ, reads the time on its slow path
// and starts a new batch, so that the observations of one batch were made
// within about a period of the time the batch started: a summary places a
// batch in the age bucket of that time, without a clock reading per
// observation.
//
// The timer runs only while it is used: a tick that finds no use since the
// previous one stops it, and advances the generation once more as it does,
// so that every batch is older than the stop, and the next observer, seeing
// a new generation, starts it again (touch). No goroutine is left behind
// between ticks: the timer is a time.AfterFunc.
type genClock struct {
	gen atomic.Uint32
	_   [60]byte // gen is read on every observation: keep it off the written words' line

	used    atomic.Bool // touched since the previous tick
	running atomic.Bool // the timer is set; changed under mu
	mu      sync.Mutex
	period  time.Duration // mu
	timer   *time.Timer   // mu
}

// summaryClock is the clock of every summary's batches.
var summaryClock genClock

// Bounds of a genClock's period.
const (
	minClockPeriod = 10 * time.Millisecond
	maxClockPeriod = time.Second
)

// need asks for a period of at most d, within [minClockPeriod,
// maxClockPeriod]. The clock keeps the shortest period any caller asked for.
// A running clock whose period shortens ticks next within the new period,
// not at the end of the longer one it was set for.
func (c *genClock) need(d time.Duration) {
	d = min(max(d, minClockPeriod), maxClockPeriod)
	c.mu.Lock()
	if c.period == 0 || d < c.period {
		c.period = d
		if c.running.Load() {
			// If the timer has fired and its tick waits for mu, that
			// tick sets it again (a timer has one firing pending at
			// most) or stops the clock, and the firing set here then
			// advances the generation once more, harmlessly.
			c.timer.Reset(d)
		}
	}
	c.mu.Unlock()
}

// touch says the clock is in use, and starts its timer if it is stopped.
// Callers load gen before they touch: a generation loaded before a stop is
// stale by the stop's own advance, and one loaded after it is followed by
// this touch, which sees the timer stopped and starts it.
func (c *genClock) touch() {
	if !c.used.Load() {
		c.used.Store(true)
	}
	if c.running.Load() {
		return
	}
	c.mu.Lock()
	if !c.running.Load() {
		if c.period == 0 {
			c.period = maxClockPeriod
		}
		c.running.Store(true)
		if c.timer == nil {
			c.timer = time.AfterFunc(c.period, c.tick)
		} else {
			c.timer.Reset(c.period)
		}
	}
	c.mu.Unlock()
}

// tick advances the generation, and sets the timer again if the clock was
// used since the previous tick, or else stops it.
func (c *genClock) tick() {
	c.mu.Lock()
	if c.used.Swap(false) {
		c.gen.Add(1)
		c.timer.Reset(c.period)
		c.mu.Unlock()
		return
	}
	c.running.Store(false)
	c.mu.Unlock()
	// After running is false: whoever loads the new generation touches
	// the clock after this, and finds it stopped.
	c.gen.Add(1)
}
