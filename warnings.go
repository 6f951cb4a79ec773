package ginauth

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Many warnings are caused by requests anyone can send: a forged callback,
// a logout token with a bad signature. warnings keeps such a flood from
// turning into a flood of WARN lines: each message is logged at WARN a
// burst of warnBurst times, then once per warnEvery, and the next WARN line
// carries the number of lines demoted meanwhile as "suppressed". The
// demoted lines go to DEBUG, which production loggers leave out at the cost
// of one Enabled call, and which a developer chasing one failure can turn on.

const (
	warnBurst = 10
	warnEvery = 6 * time.Second // the burst refills at 10 lines a minute
)

type warnings struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	byText map[string]*warnBucket // keyed by message: a fixed, small set
}

type warnBucket struct {
	tokens     float64
	last       time.Time
	suppressed int
}

func newWarnings(log *slog.Logger, now func() time.Time) *warnings {
	return &warnings{log: log, now: now, byText: make(map[string]*warnBucket)}
}

// Warn logs msg with args at WARN level, or at DEBUG when msg was logged
// too often lately. msg must be a constant: it keys the limit.
func (w *warnings) Warn(msg string, args ...any) {
	if !w.log.Enabled(context.Background(), slog.LevelWarn) {
		return
	}
	suppressed, ok := w.allow(msg)
	if !ok {
		w.log.Debug(msg, args...)
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	w.log.Warn(msg, args...)
}

// allow takes a token from msg's bucket; it returns how many lines were
// left out since the last one logged.
func (w *warnings) allow(msg string) (int, bool) {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.byText[msg]
	if !ok {
		b = &warnBucket{tokens: warnBurst, last: now}
		w.byText[msg] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(warnBurst, b.tokens+elapsed.Seconds()/warnEvery.Seconds())
	}
	b.last = now
	if b.tokens < 1 {
		b.suppressed++
		return 0, false
	}
	b.tokens--
	n := b.suppressed
	b.suppressed = 0
	return n, true
}
