package store_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-contrib/sessions/memstore"
	"github.com/gorilla/securecookie"
	gsessions "github.com/gorilla/sessions"

	"github.com/ginauth/ginauth/store"
	"github.com/ginauth/ginauth/store/storetest"
)

// sessionsKey authenticates the backends' cookies in these tests.
var sessionsKey = []byte("ginauth test key: 32 bytes long!")

// flakySessions is a backend that can be taken down: it then fails every
// call, as a gin-contrib/sessions store does when its database is down.
type flakySessions struct {
	sessions.Store
	down atomic.Bool
}

var errBackendDown = errors.New("backend down")

func (f *flakySessions) Get(r *http.Request, name string) (*gsessions.Session, error) {
	if f.down.Load() {
		return gsessions.NewSession(f, name), errBackendDown
	}
	return f.Store.Get(r, name)
}

func (f *flakySessions) New(r *http.Request, name string) (*gsessions.Session, error) {
	if f.down.Load() {
		return gsessions.NewSession(f, name), errBackendDown
	}
	return f.Store.New(r, name)
}

func (f *flakySessions) Save(r *http.Request, w http.ResponseWriter, s *gsessions.Session) error {
	if f.down.Load() {
		return errBackendDown
	}
	return f.Store.Save(r, w, s)
}

// jsonSessions stores values as a JSON serializer does (redistore's
// JSONSerializer): []byte comes back as a base64 string, int64 as float64.
type jsonSessions struct{ sessions.Store }

func (j jsonSessions) Save(r *http.Request, w http.ResponseWriter, s *gsessions.Session) error {
	m := make(map[string]any, len(s.Values))
	for k, v := range s.Values {
		m[k.(string)] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	m = nil
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	s.Values = make(map[any]any, len(m))
	for k, v := range m {
		s.Values[k] = v
	}
	return j.Store.Save(r, w, s)
}

// fsSessions is gorilla's filesystem store, which reports a deleted session
// as a missing file.
type fsSessions struct{ *gsessions.FilesystemStore }

func (fsSessions) Options(sessions.Options) {}

func newAdapter(t *testing.T, backend sessions.Store, now func() time.Time) *store.SessionsAdapter {
	t.Helper()
	a, err := store.FromSessions(backend, store.SessionsOptions{Now: now})
	if err != nil {
		t.Fatalf("FromSessions = %v", err)
	}
	return a
}

func TestSessionsConformance(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverSide bool
		backend    func(t *testing.T) sessions.Store
	}{
		{"memstore", true, func(*testing.T) sessions.Store { return memstore.NewStore(sessionsKey) }},
		{"memstore JSON", true, func(*testing.T) sessions.Store { return jsonSessions{memstore.NewStore(sessionsKey)} }},
		{"filesystem", true, func(t *testing.T) sessions.Store {
			return fsSessions{gsessions.NewFilesystemStore(t.TempDir(), sessionsKey)}
		}},
		{"cookie", false, func(*testing.T) sessions.Store { return cookie.NewStore(sessionsKey) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newManualClock()
			var current *flakySessions // the backend of the running case
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T) store.Store {
					current = &flakySessions{Store: tc.backend(t)}
					return newAdapter(t, current, clock.Now)
				},
				ServerSide: tc.serverSide,
				Advance:    clock.Advance,
				Now:        clock.Now,
				Stop:       func(*testing.T) { current.down.Store(true) },
				Start:      func(*testing.T) { current.down.Store(false) },
			})
		})
	}
}

// backendHas reports whether the backend itself holds a session for token,
// and its values.
func backendHas(t *testing.T, backend sessions.Store, token []byte) (bool, map[any]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "ginauth", Value: string(token)})
	s, err := backend.Get(r, "ginauth")
	if err != nil {
		t.Fatalf("backend Get = %v", err)
	}
	return !s.IsNew, s.Values
}

func sessionsRec(clock *manualClock, data string) store.Record {
	return store.Record{Data: []byte(data), Expiry: clock.Now().Add(time.Hour), Provider: "p", Subject: "alice"}
}

// TestSessionsDeleteForgets checks that the memstore backend itself forgets
// a deleted session, not only the adapter.
func TestSessionsDeleteForgets(t *testing.T) {
	clock := newManualClock()
	backend := memstore.NewStore(sessionsKey)
	a := newAdapter(t, backend, clock.Now)
	tok, err := a.Save(t.Context(), nil, sessionsRec(clock, "data"))
	if err != nil {
		t.Fatalf("Save = %v", err)
	}
	if has, values := backendHas(t, backend, tok); !has || string(values["ginauth.d"].([]byte)) != "data" {
		t.Fatalf("backend after Save: (%v, %v), want the session", has, values)
	}
	if err := a.Delete(t.Context(), tok); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	if has, values := backendHas(t, backend, tok); has || len(values) != 0 {
		t.Errorf("backend after Delete: (%v, %v), want no session", has, values)
	}
}

// TestSessionsNeverAdopts covers SECURITY.md SF-2 on a backend that keeps
// the ID a browser supplies: a correctly signed ID the backend does not hold
// is never loaded nor written.
func TestSessionsNeverAdopts(t *testing.T) {
	clock := newManualClock()
	backend := memstore.NewStore(sessionsKey)
	a := newAdapter(t, backend, clock.Now)
	forged, err := securecookie.EncodeMulti("ginauth", "ATTACKER-CHOSEN-ID", securecookie.CodecsFromPairs(sessionsKey)...)
	if err != nil {
		t.Fatal(err)
	}
	tok := []byte(forged)
	if data, found, err := a.Load(t.Context(), tok); found || err != nil {
		t.Errorf("Load(forged) = (%q, %v, %v), want not found", data, found, err)
	}
	if got, err := a.Save(t.Context(), tok, sessionsRec(clock, "adopted")); got != nil || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Save(forged) = (%q, %v), want (nil, ErrNotFound)", got, err)
	}
	if has, values := backendHas(t, backend, tok); has {
		t.Errorf("the backend holds the forged ID: %v", values)
	}
}

// TestSessionsForeignSession: a session another part of the app keeps in the
// same backend under the same name is not ginauth's.
func TestSessionsForeignSession(t *testing.T) {
	clock := newManualClock()
	backend := memstore.NewStore(sessionsKey)
	a := newAdapter(t, backend, clock.Now)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	s, _ := backend.New(r, "ginauth")
	s.Values["cart"] = "3 apples"
	w := httptest.NewRecorder()
	if err := backend.Save(r, w, s); err != nil {
		t.Fatal(err)
	}
	tok := []byte(w.Result().Cookies()[0].Value)

	if data, found, err := a.Load(t.Context(), tok); found || err != nil {
		t.Errorf("Load(foreign) = (%q, %v, %v), want not found", data, found, err)
	}
	if got, err := a.Save(t.Context(), tok, sessionsRec(clock, "mine")); got != nil || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Save(foreign) = (%q, %v), want (nil, ErrNotFound)", got, err)
	}
	if err := a.Delete(t.Context(), tok); err != nil {
		t.Errorf("Delete(foreign) = %v", err)
	}
	if has, values := backendHas(t, backend, tok); !has || values["cart"] != "3 apples" || len(values) != 1 {
		t.Errorf("the foreign session changed: (%v, %v)", has, values)
	}
}

// recordingSessions remembers the options and name of the last session saved.
type recordingSessions struct {
	sessions.Store
	mu     sync.Mutex
	maxAge int
	name   string
}

func (r *recordingSessions) Save(req *http.Request, w http.ResponseWriter, s *gsessions.Session) error {
	r.mu.Lock()
	r.maxAge, r.name = s.Options.MaxAge, s.Name()
	r.mu.Unlock()
	return r.Store.Save(req, w, s)
}

// TestSessionsMaxAge: the backend's time to live follows the record's
// expiry, rounded up to whole seconds, and a delete asks it to forget.
func TestSessionsMaxAge(t *testing.T) {
	clock := newManualClock()
	backend := &recordingSessions{Store: memstore.NewStore(sessionsKey)}
	a := newAdapter(t, backend, clock.Now)
	ctx := t.Context()
	rec := sessionsRec(clock, "data")
	tok, err := a.Save(ctx, nil, rec)
	if err != nil || backend.maxAge != 3600 || backend.name != "ginauth" {
		t.Errorf("new session: Save = %v, backend got MaxAge %d and name %q, want 3600 and \"ginauth\"", err, backend.maxAge, backend.name)
	}
	rec.Expiry = clock.Now().Add(1500 * time.Millisecond)
	if _, err := a.Save(ctx, tok, rec); err != nil || backend.maxAge != 2 {
		t.Errorf("update: Save = %v, backend got MaxAge %d, want 2", err, backend.maxAge)
	}
	if err := a.Delete(ctx, tok); err != nil || backend.maxAge != -1 {
		t.Errorf("Delete = %v, backend got MaxAge %d, want -1", err, backend.maxAge)
	}
}

// TestSessionsDeleteWinsOverUpdate: an update racing a delete of the same
// session never writes it back.
func TestSessionsDeleteWinsOverUpdate(t *testing.T) {
	clock := newManualClock()
	a := newAdapter(t, memstore.NewStore(sessionsKey), clock.Now)
	ctx := t.Context()
	for i := range 200 {
		tok, err := a.Save(ctx, nil, sessionsRec(clock, "v1"))
		if err != nil {
			t.Fatalf("Save = %v", err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := a.Save(ctx, tok, sessionsRec(clock, "v2")); err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("update = %v", err)
			}
		})
		wg.Go(func() {
			if err := a.Delete(ctx, tok); err != nil {
				t.Errorf("Delete = %v", err)
			}
		})
		wg.Wait()
		if data, found, err := a.Load(ctx, tok); found || err != nil {
			t.Fatalf("round %d: after a delete, Load = (%q, %v, %v), want not found", i, data, found, err)
		}
	}
}

func TestFromSessions(t *testing.T) {
	backend := memstore.NewStore(sessionsKey)
	for _, tc := range []struct {
		name    string
		backend sessions.Store
		opts    store.SessionsOptions
		ok      bool
	}{
		{"defaults", backend, store.SessionsOptions{}, true},
		{"name", backend, store.SessionsOptions{Name: "my-app_auth"}, true},
		{"nil store", nil, store.SessionsOptions{}, false},
		{"name with a space", backend, store.SessionsOptions{Name: "my app"}, false},
		{"name with a semicolon", backend, store.SessionsOptions{Name: "a;b"}, false},
		{"name with an equals sign", backend, store.SessionsOptions{Name: "a=b"}, false},
		{"non-ASCII name", backend, store.SessionsOptions{Name: "sessión"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := store.FromSessions(tc.backend, tc.opts)
			if (err == nil) != tc.ok || (a != nil) != tc.ok {
				t.Errorf("FromSessions = (%v, %v), want ok: %v", a, err, tc.ok)
			}
		})
	}

	rec := &recordingSessions{Store: backend}
	a, err := store.FromSessions(rec, store.SessionsOptions{Name: "my-app_auth"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Save(t.Context(), nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Minute)}); err != nil || rec.name != "my-app_auth" {
		t.Errorf("Save = %v with the session named %q, want \"my-app_auth\"", err, rec.name)
	}
}
