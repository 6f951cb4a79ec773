package safehttp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// streamHandler writes n bytes in 32 KiB chunks from one reused buffer, so the
// test itself never holds the whole body. If declare is set, it sends a
// Content-Length header.
func streamHandler(n int64, declare bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if declare {
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		}
		buf := bytes.Repeat([]byte("a"), 32<<10)
		for left := n; left > 0; {
			c := min(left, int64(len(buf)))
			if _, err := w.Write(buf[:c]); err != nil {
				return // client went away
			}
			left -= c
		}
	}
}

func TestBodyCap(t *testing.T) {
	const fifty = 50 << 20
	tests := []struct {
		name    string
		size    int64
		declare bool
		wantErr error
	}{
		{"empty", 0, false, nil},
		{"exactly MaxBody", MaxBody, false, nil},
		{"exactly MaxBody declared", MaxBody, true, nil},
		{"MaxBody+1", MaxBody + 1, false, ErrResponseTooLarge},
		{"MaxBody+1 declared", MaxBody + 1, true, ErrResponseTooLarge},
		{"50 MB chunked", fifty, false, ErrResponseTooLarge},
		{"50 MB declared", fifty, true, ErrResponseTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(streamHandler(tc.size, tc.declare))
			defer srv.Close()
			c := NewClient(5 * time.Second)

			// Read with a plain io.Copy: the body itself must fail, not
			// merely ReadAll.
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("io.Copy err = %v, want %v", err, tc.wantErr)
			}
			if n > MaxBody {
				t.Fatalf("read %d bytes, more than MaxBody", n)
			}
			if tc.wantErr == nil && n != tc.size {
				t.Fatalf("read %d bytes, want %d", n, tc.size)
			}

			resp, err = c.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ReadAll(resp.Body)
			resp.Body.Close()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadAll err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && int64(len(b)) != tc.size {
				t.Fatalf("ReadAll returned %d bytes, want %d", len(b), tc.size)
			}
		})
	}
}

func TestBodyCapBoundedMemory(t *testing.T) {
	srv := httptest.NewServer(streamHandler(50<<20, false))
	defer srv.Close()
	c := NewClient(10 * time.Second)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadAll(resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
	// TotalAlloc counts every allocation of the process (server included).
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("allocated %d bytes reading a 50 MB body; want bounded (< 16 MiB)", grew)
	}
}

func TestReadAllPlainReader(t *testing.T) {
	b, err := ReadAll(strings.NewReader("hello"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	_, err = ReadAll(io.LimitReader(zeroReader{}, MaxBody+1))
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
	b, err = ReadAll(io.LimitReader(zeroReader{}, MaxBody))
	if err != nil || len(b) != MaxBody {
		t.Fatalf("ReadAll(MaxBody) = %d bytes, %v", len(b), err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestTimeouts(t *testing.T) {
	const timeout = 200 * time.Millisecond
	release := make(chan struct{})
	hangHeaders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	hangBody := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	tests := []struct {
		name    string
		handler http.Handler
	}{
		{"no response headers", hangHeaders},
		{"body never finishes", hangBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := NewClient(timeout)
			start := time.Now()
			resp, err := c.Get(srv.URL)
			if err == nil {
				_, err = ReadAll(resp.Body)
				resp.Body.Close()
			}
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("want a timeout error, got nil")
			}
			if elapsed > timeout+time.Second {
				t.Fatalf("took %v, want about %v", elapsed, timeout)
			}
		})
	}
	close(release)
}

func TestTransportTimeoutsCapped(t *testing.T) {
	tests := []struct {
		timeout, wantTotal, wantPhase time.Duration
	}{
		{0, DefaultTimeout, 5 * time.Second},
		{-1, DefaultTimeout, 5 * time.Second},
		{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond},
		{30 * time.Second, 30 * time.Second, 5 * time.Second},
	}
	for _, tc := range tests {
		c := NewClient(tc.timeout)
		if c.Timeout != tc.wantTotal {
			t.Errorf("NewClient(%v).Timeout = %v, want %v", tc.timeout, c.Timeout, tc.wantTotal)
		}
		ct, ok := c.Transport.(*capTransport)
		if !ok {
			t.Fatalf("transport is %T", c.Transport)
		}
		tr := ct.base.(*http.Transport)
		if tr == http.DefaultTransport {
			t.Fatal("transport shared with http.DefaultTransport")
		}
		if tr.TLSHandshakeTimeout != tc.wantPhase || tr.ResponseHeaderTimeout != tc.wantPhase {
			t.Errorf("NewClient(%v): TLS %v, header %v, want %v", tc.timeout, tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tc.wantPhase)
		}
	}
	if NewClient(0).Transport == NewClient(0).Transport {
		t.Fatal("two clients share a transport")
	}
}

func TestNoRedirects(t *testing.T) {
	var targetHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/target", http.StatusFound)
	})
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	user := &http.Client{Timeout: 5 * time.Second}
	clients := map[string]*http.Client{
		"NewClient": NewClient(0),
		"Wrap":      Wrap(user),
		"Wrap(nil)": Wrap(nil),
	}
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			resp, err := c.Get(srv.URL + "/start")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302 returned as is", resp.StatusCode)
			}
			if n := targetHits.Load(); n != 0 {
				t.Fatalf("redirect target hit %d times", n)
			}
		})
	}
	// Wrap must not modify the caller's client.
	if user.CheckRedirect != nil || user.Transport != nil {
		t.Fatal("Wrap modified its argument")
	}
}

type countingTransport struct {
	n    atomic.Int32
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func TestWrap(t *testing.T) {
	srv := httptest.NewServer(streamHandler(MaxBody+10, false))
	defer srv.Close()
	ct := &countingTransport{base: http.DefaultTransport}
	user := &http.Client{Transport: ct}
	c := Wrap(user)
	if c == user {
		t.Fatal("Wrap returned its argument")
	}
	if c.Timeout != DefaultTimeout {
		t.Fatalf("Timeout = %v, want DefaultTimeout for a client without one", c.Timeout)
	}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
	if ct.n.Load() != 1 {
		t.Fatalf("user transport used %d times, want 1", ct.n.Load())
	}
	// Wrapping twice does not stack caps.
	if c2 := Wrap(c); c2.Transport != c.Transport {
		t.Fatal("Wrap(Wrap(c)) re-wrapped the transport")
	}
	// An explicit timeout is kept.
	if c3 := Wrap(&http.Client{Timeout: time.Second}); c3.Timeout != time.Second {
		t.Fatalf("Timeout = %v, want 1s kept", c3.Timeout)
	}
}
