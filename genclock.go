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
//
// Each use names the period its user needs (a summary: an eighth of its
// age bucket), and the clock runs at the shortest period named since its
// previous tick: a summary with short age buckets makes it tick often only
// while that summary observes, not for good.
type genClock struct {
	gen atomic.Uint32
	_   [60]byte // gen is read on every observation: keep it off the written words' line

	used     atomic.Bool  // touched since the previous tick
	running  atomic.Bool  // the timer is set; changed under mu
	shortest atomic.Int64 // the shortest period a touch named since the previous tick; 0: none
	period   atomic.Int64 // the timer's period; changed under mu
	mu       sync.Mutex
	timer    *time.Timer // mu
	due      time.Time   // when the timer fires next; mu
}

// summaryClock is the clock of every summary's batches.
var summaryClock genClock

// Bounds of a genClock's period.
const (
	minClockPeriod = 10 * time.Millisecond
	maxClockPeriod = time.Second
)

// touch says the clock is in use by a caller that needs it to tick at
// least every d (taken within [minClockPeriod, maxClockPeriod]), and starts
// its timer if it is stopped, or makes it tick within d if it runs at a
// longer period. Callers load gen before they touch: a generation loaded
// before a stop is stale by the stop's own advance, and one loaded after it
// is followed by this touch, which sees the timer stopped and starts it.
func (c *genClock) touch(d time.Duration) {
	d = min(max(d, minClockPeriod), maxClockPeriod)
	if !c.used.Load() {
		c.used.Store(true)
	}
	for {
		s := c.shortest.Load()
		if s != 0 && s <= int64(d) || c.shortest.CompareAndSwap(s, int64(d)) {
			break
		}
	}
	// Read after shortest is written: a tick that has taken shortest
	// without this touch's d has stored its period by now (see tick).
	if c.running.Load() && c.period.Load() <= int64(d) {
		return
	}
	c.mu.Lock()
	switch {
	case !c.running.Load():
		c.period.Store(int64(d))
		c.running.Store(true)
		c.due = time.Now().Add(d)
		if c.timer == nil {
			c.timer = time.AfterFunc(d, c.tick)
		} else {
			c.timer.Reset(d)
		}
	case int64(d) < c.period.Load():
		c.period.Store(int64(d))
		// A tick due within d stays where it is: moved to d from now,
		// it would lengthen the batches that began before it.
		if time.Until(c.due) <= d {
			break
		}
		// If the timer has fired and its tick waits for mu, that tick
		// sets it again (a timer has one firing pending at most) or stops
		// the clock, and the firing set here then advances the
		// generation once more, harmlessly.
		c.due = time.Now().Add(d)
		c.timer.Reset(d)
	}
	c.mu.Unlock()
}

// tick advances the generation and, if the clock was used since the
// previous tick, sets the timer again at the shortest period named since
// then, or else stops it.
func (c *genClock) tick() {
	c.mu.Lock()
	if c.used.Swap(false) {
		c.gen.Add(1)
		p := c.shortest.Swap(0)
		if p == 0 {
			p = int64(maxClockPeriod)
		}
		c.period.Store(p)
		// A touch that wrote shortest after the swap may have read the
		// period before the store: take its d here, or it reads the
		// stored period after this load and shortens it itself.
		if s := c.shortest.Load(); s != 0 && s < p {
			p = s
			c.period.Store(p)
		}
		c.due = time.Now().Add(time.Duration(p))
		c.timer.Reset(time.Duration(p))
		c.mu.Unlock()
		return
	}
	c.running.Store(false)
	c.mu.Unlock()
	// After running is false: whoever loads the new generation touches
	// the clock after this, and finds it stopped.
	c.gen.Add(1)
}
