package push

import (
	"context"
	"fmt"
	"log"
	"time"
)

// Final says what Run does once its context ends.
type Final int

const (
	// FinalPush pushes once more, as each tick does, so that the gateway
	// keeps the job's last values. It is the default.
	FinalPush Final = iota
	// FinalDelete deletes the group, for jobs whose metrics should not
	// outlive them.
	FinalDelete
	// FinalNone leaves the gateway as the last periodic push left it.
	FinalNone
)

// defaultRunTimeout bounds each request of Run unless RunOptions.Timeout
// says otherwise.
const defaultRunTimeout = 30 * time.Second

// RunOptions configure Pusher.Run. The zero value replaces the group at
// each tick and once more at the end, bounds each request to 30 seconds,
// and logs failed pushes with the standard logger.
type RunOptions struct {
	// Add makes each push an Add (POST) rather than a Replace (PUT).
	Add bool
	// Final is what Run does once the context ends.
	Final Final
	// Timeout bounds each request Run makes, the final one included;
	// zero means 30 seconds. Pushes never overlap: one that takes longer
	// than the interval delays the next.
	Timeout time.Duration
	// OnError receives the error of each failed periodic push, in Run's
	// goroutine; Run goes on pushing at the next tick. Nil means logging
	// the error with the standard logger (log.Print). The final push's
	// error is Run's result instead.
	OnError func(error)
}

// Run pushes the registry at once and then every interval, until ctx
// ends; it then makes one more request as opts.Final says (by default a
// last push), bounded by opts.Timeout on a context that keeps ctx's values
// but not its cancellation, and returns that request's error. Failed
// periodic pushes go to opts.OnError and do not stop Run: the gateway may
// be back at the next tick. A push cut short because ctx ended is not
// reported.
//
// Run blocks, in the caller's goroutine, and starts no goroutine of its
// own, so nothing outlives it:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer stop()
//	err := p.Run(ctx, 15*time.Second, push.RunOptions{Final: push.FinalDelete})
//
// It returns an error at once, without pushing, if interval is not
// positive or opts are invalid.
func (p *Pusher) Run(ctx context.Context, interval time.Duration, opts RunOptions) error {
	if ctx == nil {
		return errNilContext
	}
	if interval <= 0 {
		return fmt.Errorf("push: Run's interval %v is not positive", interval)
	}
	if opts.Final < FinalPush || opts.Final > FinalNone {
		return fmt.Errorf("push: RunOptions.Final %d is not FinalPush, FinalDelete or FinalNone", opts.Final)
	}
	if opts.Timeout < 0 {
		return fmt.Errorf("push: RunOptions.Timeout %v is negative", opts.Timeout)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = defaultRunTimeout
	}
	onError := opts.OnError
	if onError == nil {
		onError = func(err error) { log.Print(err) }
	}
	pushOnce := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if opts.Add {
			return p.Add(ctx)
		}
		return p.Replace(ctx)
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for ctx.Err() == nil {
		if err := pushOnce(ctx); err != nil && ctx.Err() == nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		}
	}

	final := context.WithoutCancel(ctx)
	switch opts.Final {
	case FinalPush:
		return pushOnce(final)
	case FinalDelete:
		ctx, cancel := context.WithTimeout(final, timeout)
		defer cancel()
		return p.Delete(ctx)
	}
	return nil
}
