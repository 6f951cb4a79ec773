package loadkit

import (
	"slices"
	"sync"
	"time"
)

// Recorder collects latencies and errors per kind of operation. It is safe
// for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	kinds map[string]*kindRecord
	order []string
}

type kindRecord struct {
	durations []time.Duration
	errors    int
	lastErr   string
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{kinds: map[string]*kindRecord{}} }

func (r *Recorder) kind(name string) *kindRecord {
	k, ok := r.kinds[name]
	if !ok {
		k = &kindRecord{}
		r.kinds[name] = k
		r.order = append(r.order, name)
	}
	return k
}

// Add records one operation of kind that took d and failed with err (nil:
// succeeded).
func (r *Recorder) Add(kind string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.kind(kind)
	k.durations = append(k.durations, d)
	if err != nil {
		k.errors++
		k.lastErr = err.Error()
	}
}

// Summary is one kind's figures.
type Summary struct {
	Kind     string
	Count    int
	Errors   int
	P50, P99 time.Duration
	Max      time.Duration
	LastErr  string
}

// Summaries returns the figures of every kind, in the order they were first
// seen.
func (r *Recorder) Summaries() []Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Summary
	for _, name := range r.order {
		k := r.kinds[name]
		d := slices.Clone(k.durations)
		slices.Sort(d)
		s := Summary{Kind: name, Count: len(d), Errors: k.errors, LastErr: k.lastErr}
		if len(d) > 0 {
			s.P50, s.P99, s.Max = quantile(d, 0.50), quantile(d, 0.99), d[len(d)-1]
		}
		out = append(out, s)
	}
	return out
}

// quantile is the q-quantile of sorted d (nearest rank).
func quantile(d []time.Duration, q float64) time.Duration {
	i := int(float64(len(d))*q+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}
