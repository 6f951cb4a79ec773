package loadkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Route is one URL driven by Interleaved.
type Route struct {
	Name string
	URL  string
}

// InterleavedOptions configure Interleaved.
type InterleavedOptions struct {
	Routes []Route             // driven in turn, one per slice
	Cookie string              // the Cookie header of every request ("" for none)
	Conns  int                 // keep-alive connections, one worker each
	Slices int                 // slices in all, spread over the routes in turn
	Slice  time.Duration       // length of one slice
	Warmup time.Duration       // untimed load on every route first
	Log    io.Writer           // one line per slice; nil: none
	Client func() *http.Client // nil: one keep-alive connection per worker
	// CPU, when set, reads the server's CPU time so far (see ProcCPU):
	// RouteResult.CPU is then its CPU time during the route's slices.
	CPU func() (time.Duration, error)
}

// RouteResult is what Interleaved measured for one route.
type RouteResult struct {
	Route    Route
	Requests int64
	Errors   int64 // transport errors and statuses other than 200
	Elapsed  time.Duration
	CPU      time.Duration // the server's CPU time over the route's slices (InterleavedOptions.CPU)
	Rates    []float64     // requests per second in each of the route's slices, in order
}

// CPUPerRequest is the server's CPU time per completed request.
func (r RouteResult) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// PerSecond is the route's throughput.
func (r RouteResult) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Interleaved drives the routes in alternating time slices, every worker on
// the same route at a time, so that slow drifts of a shared machine fall on
// every route alike. It returns one result per route.
func Interleaved(ctx context.Context, o InterleavedOptions) ([]RouteResult, error) {
	if o.Conns <= 0 || o.Slices <= 0 || o.Slice <= 0 || len(o.Routes) == 0 {
		return nil, fmt.Errorf("loadkit: Interleaved needs routes, conns, slices and a slice length")
	}
	clients := make([]*http.Client, o.Conns)
	for i := range clients {
		if o.Client != nil {
			clients[i] = o.Client()
		} else {
			clients[i] = &http.Client{Transport: NewTransport(1), Timeout: 30 * time.Second}
		}
	}
	if o.Warmup > 0 {
		for _, r := range o.Routes {
			runSlice(ctx, clients, r, o.Cookie, o.Warmup/time.Duration(len(o.Routes)))
		}
	}
	res := make([]RouteResult, len(o.Routes))
	for i := range res {
		res[i].Route = o.Routes[i]
	}
	for s := 0; s < o.Slices; s++ {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		k := s % len(o.Routes)
		var cpu0, cpu1 time.Duration
		if o.CPU != nil {
			var err error
			if cpu0, err = o.CPU(); err != nil {
				return nil, err
			}
		}
		n, errs, took := runSlice(ctx, clients, o.Routes[k], o.Cookie, o.Slice)
		if o.CPU != nil {
			var err error
			if cpu1, err = o.CPU(); err != nil {
				return nil, err
			}
			res[k].CPU += cpu1 - cpu0
		}
		res[k].Requests += n
		res[k].Errors += errs
		res[k].Elapsed += took
		res[k].Rates = append(res[k].Rates, float64(n)/took.Seconds())
		if o.Log != nil {
			fmt.Fprintf(o.Log, "  slice %2d %-10s %8.0f req/s  errors %d\n", s+1, o.Routes[k].Name, float64(n)/took.Seconds(), errs)
		}
	}
	return res, nil
}

// runSlice runs every client on r for d and counts completed requests.
func runSlice(ctx context.Context, clients []*http.Client, r Route, cookie string, d time.Duration) (n, errs int64, took time.Duration) {
	var wg sync.WaitGroup
	var count, bad atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
			if err != nil {
				bad.Add(1)
				return
			}
			if cookie != "" {
				req.Header.Set("Cookie", cookie)
			}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				resp, err := c.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad.Add(1)
					continue
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return count.Load(), bad.Load(), time.Since(start)
}

// PairRatios returns, for each pair of adjacent slices of base and other
// (slice i of each), other's rate over base's. Their median is robust to
// a slice that a shared machine slowed down; their spread shows how far
// one measurement can be trusted.
func PairRatios(base, other RouteResult) []float64 {
	n := min(len(base.Rates), len(other.Rates))
	r := make([]float64, 0, n)
	for i := range n {
		if base.Rates[i] > 0 {
			r = append(r, other.Rates[i]/base.Rates[i])
		}
	}
	return r
}

// Median returns the median of v (0 for none), without changing v.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
