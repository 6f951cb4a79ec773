package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
)

// The debug listener (GINAUTH_DEBUG_ADDR, off by default) is a second HTTP
// server, on a loopback address only, for load and soak runs
// (internal/cmd/loadtest, internal/cmd/soak):
//
//   - GET /debug/stats: heap and goroutine figures as JSON; ?gc=1 runs a
//     garbage collection first, so that heap figures compare across a run;
//   - /debug/pprof/...: the runtime profiles (net/http/pprof);
//   - GET /debug/dev/logout-token?sub=...&sid=...: with the development
//     provider only, a back-channel logout token it signed, for posting to
//     /auth/backchannel-logout/dev (the development provider never sends
//     one itself).
//
// None of it is reachable on the app's own listener.

// parseDebugAddr checks GINAUTH_DEBUG_ADDR: a host:port on a loopback host.
func parseDebugAddr(v string, fail func(string, ...any)) string {
	if v == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(v)
	ip := net.ParseIP(host)
	if err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		fail("GINAUTH_DEBUG_ADDR %q must be a loopback host:port such as 127.0.0.1:6060 (it serves profiles and, with the development provider, logout tokens)", v)
		return ""
	}
	return v
}

// debugStats is the body of GET /debug/stats.
type debugStats struct {
	Goroutines int    `json:"goroutines"`
	HeapAlloc  uint64 `json:"heapAlloc"`   // bytes of live and not yet collected heap objects
	HeapInuse  uint64 `json:"heapInuse"`   // bytes in in-use spans
	HeapObject uint64 `json:"heapObjects"` // live and not yet collected heap objects
	NumGC      uint32 `json:"numGC"`
	Sys        uint64 `json:"sys"` // bytes obtained from the OS
}

// newDebugHandler serves the debug listener's routes; op is the development
// provider, or nil.
func newDebugHandler(a *app) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(debugStats{
			Goroutines: runtime.NumGoroutine(),
			HeapAlloc:  m.HeapAlloc,
			HeapInuse:  m.HeapInuse,
			HeapObject: m.HeapObjects,
			NumGC:      m.NumGC,
			Sys:        m.Sys,
		})
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if a.op != nil {
		op := a.op
		mux.HandleFunc("GET /debug/dev/logout-token", func(w http.ResponseWriter, r *http.Request) {
			sub, sid := r.URL.Query().Get("sub"), r.URL.Query().Get("sid")
			if sub == "" && sid == "" {
				http.Error(w, "sub or sid is required", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, op.LogoutToken(sub, sid))
		})
	}
	return mux
}

// serveDebug starts the debug listener at addr and returns its server, for
// shutting down with the app's.
func serveDebug(addr string, a *app, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("GINAUTH_DEBUG_ADDR: %w", err)
	}
	srv := newServer(newDebugHandler(a), log)
	srv.WriteTimeout = 0 // CPU profiles and traces take as long as asked
	log.Warn("debug listener on: profiles and runtime figures are served", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("debug listener failed", "err", err)
		}
	}()
	return srv, nil
}
