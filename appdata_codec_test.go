package ginauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// largestAppData is an AppData at every bound at once: MaxAppDataRoles
// roles, MaxAppDataValues values, a key of MaxAppDataKeyLen bytes, and
// exactly MaxAppDataSize bytes encoded.
func largestAppData() AppData {
	d := AppData{UserID: "user-1", Values: map[string]string{}}
	for i := range MaxAppDataRoles {
		d.Roles = append(d.Roles, fmt.Sprintf("role-%02d", i))
	}
	for i := range MaxAppDataValues - 1 {
		d.Values[fmt.Sprintf("k%02d", i)] = "v"
	}
	long := strings.Repeat("k", MaxAppDataKeyLen)
	d.Values[long] = ""
	fill := MaxAppDataSize - appDataSize(d)
	if fill >= 128 {
		fill-- // its length then takes two bytes
	}
	d.Values[long] = strings.Repeat("x", fill)
	return d
}

// appDataSize is the encoded size of d as AppData's documentation states
// it: the lengths of the strings, one byte each for their lengths (two from
// 128 bytes), plus two.
func appDataSize(d AppData) int {
	n := 2
	add := func(s string) {
		n += len(s) + 1
		if len(s) >= 128 {
			n++
		}
	}
	add(d.UserID)
	for _, r := range d.Roles {
		add(r)
	}
	for k, v := range d.Values {
		add(k)
		add(v)
	}
	return n
}

func TestAppData_Bounds(t *testing.T) {
	roles := func(n int) []string {
		r := make([]string, n)
		for i := range r {
			r[i] = fmt.Sprint("r", i)
		}
		return r
	}
	values := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprint("k", i)] = "v"
		}
		return m
	}
	over := largestAppData()
	over.UserID += "x"
	cases := []struct {
		name string
		d    AppData
		want error // nil: accepted
	}{
		{"zero", AppData{}, nil},
		{"empty map and slice", AppData{Roles: []string{}, Values: map[string]string{}}, nil},
		{"typical", AppData{UserID: "42", Roles: []string{"admin"}, Values: map[string]string{"tenant": "acme"}}, nil},
		{"largest", largestAppData(), nil},
		{"key charset", AppData{Values: map[string]string{"a-Z_0.9": "ok"}}, nil},
		{"value with newline and unicode", AppData{Values: map[string]string{"note": "line 1\nline 2 ✓"}}, nil},
		{"one byte too large", over, ErrAppDataTooLarge},
		{"huge user ID", AppData{UserID: strings.Repeat("u", 1<<20)}, ErrAppDataTooLarge},
		{"too many roles", AppData{Roles: roles(MaxAppDataRoles + 1)}, ErrAppDataTooLarge},
		{"too many values", AppData{Values: values(MaxAppDataValues + 1)}, ErrAppDataTooLarge},
		{"empty role", AppData{Roles: []string{"admin", ""}}, ErrInvalidAppData},
		{"role with a newline", AppData{Roles: []string{"admin\n"}}, ErrInvalidAppData},
		{"role not UTF-8", AppData{Roles: []string{"\xff"}}, ErrInvalidAppData},
		{"user ID with NUL", AppData{UserID: "4\x002"}, ErrInvalidAppData},
		{"user ID not UTF-8", AppData{UserID: "\xc3"}, ErrInvalidAppData},
		{"empty key", AppData{Values: map[string]string{"": "v"}}, ErrInvalidAppData},
		{"key with space", AppData{Values: map[string]string{"the tenant": "v"}}, ErrInvalidAppData},
		{"key with non-ASCII", AppData{Values: map[string]string{"tënant": "v"}}, ErrInvalidAppData},
		{"key too long", AppData{Values: map[string]string{strings.Repeat("k", MaxAppDataKeyLen+1): "v"}}, ErrInvalidAppData},
		{"value not UTF-8", AppData{Values: map[string]string{"k": "\xff"}}, ErrInvalidAppData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			raw, encErr := encodeAppData(tc.d)
			if tc.want == nil {
				if err != nil || encErr != nil {
					t.Fatalf("refused: %v / %v", err, encErr)
				}
				if tc.d.IsZero() != (raw == "") {
					t.Fatalf("zero %v but encoding %q", tc.d.IsZero(), raw)
				}
				if raw != "" && len(raw) != appDataSize(tc.d) {
					t.Fatalf("encoded %d bytes, documented size %d", len(raw), appDataSize(tc.d))
				}
				if !validAppData(raw) {
					t.Fatal("own encoding refused")
				}
				got := decodeAppData(raw)
				if got.UserID != tc.d.UserID || !slices.Equal(got.Roles, tc.d.Roles) || !maps.Equal(got.Values, tc.d.Values) {
					t.Fatalf("round trip: got %+v, want %+v", got, tc.d)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(encErr, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if strings.Count(err.Error(), "ginauth: ") != 1 {
				t.Fatalf("prefix not exactly once: %q", err)
			}
		})
	}
	if n := appDataSize(largestAppData()); n != MaxAppDataSize {
		t.Fatalf("largestAppData is %d bytes", n)
	}
}

// TestAppData_DecodeCopies: what AppData returns does not alias the session.
func TestAppData_DecodeCopies(t *testing.T) {
	s := fullSession()
	d := s.AppData()
	d.Roles[0] = "changed"
	d.Values["tenant"] = "changed"
	if again := s.AppData(); again.Roles[0] != "admin" || again.Values["tenant"] != "acme" {
		t.Fatalf("session changed through a copy: %+v", again)
	}
}

// TestAppData_NonCanonicalRefused: validAppData accepts only what
// encodeAppData produces.
func TestAppData_NonCanonicalRefused(t *testing.T) {
	str := func(s string) string { return string(appendString(nil, s)) }
	good := str("u") + "\x01" + str("admin") + "\x02" + str("a") + str("1") + str("b") + str("2")
	if !validAppData(good) || !reflect.DeepEqual(decodeAppData(good), AppData{UserID: "u", Roles: []string{"admin"}, Values: map[string]string{"a": "1", "b": "2"}}) {
		t.Fatal("hand-made encoding refused")
	}
	for name, raw := range map[string]string{
		"empty AppData present":  "\x00\x00\x00",
		"keys out of order":      str("u") + "\x00\x02" + str("b") + str("1") + str("a") + str("2"),
		"duplicate key":          str("u") + "\x00\x02" + str("a") + str("1") + str("a") + str("2"),
		"trailing byte":          good + "\x00",
		"truncated":              good[:len(good)-1],
		"non-minimal length":     "\x81\x00u\x00\x00",
		"empty role":             str("u") + "\x01" + str("") + "\x00",
		"role count over limit":  str("u") + "\x21" + strings.Repeat(str("r"), 33) + "\x00",
		"value count over limit": str("u") + "\x00\x11" + strings.Repeat(str("k")+str("v"), 17),
		"bad key":                str("u") + "\x00\x01" + str("a b") + str("1"),
		"control in user ID":     str("\x07") + "\x00\x00",
		"too large":              str(strings.Repeat("u", MaxAppDataSize)) + "\x00\x00",
	} {
		if validAppData(raw) {
			t.Errorf("%s: accepted %q", name, raw)
		}
	}
}

// TestCodec_OldVersionRefused: a session core or tokens part of the
// previous codec version is refused (its user signs in again).
func TestCodec_OldVersionRefused(t *testing.T) {
	s := fullSession()
	core, tokens := encodeCore(s), encodeTokens(&s.tokens)
	core[0], tokens[0] = codecVersion-1, codecVersion-1
	var got Session
	if decodeCore(string(core), &got) == nil {
		t.Error("old core accepted")
	}
	if decodeTokens(string(tokens), &got.tokens) == nil {
		t.Error("old tokens part accepted")
	}
}

func TestHasAnyRole(t *testing.T) {
	raw := mustEncodeAppData(AppData{UserID: "admin", Roles: []string{"viewer", "editor"}, Values: map[string]string{"admin": "admin"}})
	set := func(r ...string) map[string]struct{} {
		m := map[string]struct{}{}
		for _, v := range r {
			m[v] = struct{}{}
		}
		return m
	}
	for _, tc := range []struct {
		raw     string
		allowed map[string]struct{}
		want    bool
	}{
		{raw, set("editor"), true},
		{raw, set("owner", "viewer"), true},
		{raw, set("admin"), false}, // the user ID and values are not roles
		{raw, set("Editor"), false},
		{"", set("editor"), false},
		{mustEncodeAppData(AppData{UserID: "x"}), set("x"), false},
	} {
		if got := hasAnyRole(tc.raw, tc.allowed); got != tc.want {
			t.Errorf("hasAnyRole(%q, %v) = %v", tc.raw, tc.allowed, got)
		}
	}
}

// FuzzAppData: validAppData never panics, and what it accepts decodes to
// an AppData that encodes back to the same bytes and whose roles
// hasAnyRole finds.
func FuzzAppData(f *testing.F) {
	f.Add([]byte(mustEncodeAppData(largestAppData())))
	f.Add([]byte(mustEncodeAppData(AppData{UserID: "42", Roles: []string{"a", "b"}, Values: map[string]string{"k": "v"}})))
	f.Add([]byte(mustEncodeAppData(AppData{Roles: []string{"only"}})))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02})
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !validAppData(string(raw)) {
			return
		}
		d := decodeAppData(string(raw))
		again, err := encodeAppData(d)
		if err != nil {
			t.Fatalf("accepted %x, but its AppData is refused: %v", raw, err)
		}
		if again != string(raw) {
			t.Fatalf("accepted input does not round-trip:\n in  %x\n out %x", raw, again)
		}
		for _, r := range d.Roles {
			if !hasAnyRole(string(raw), map[string]struct{}{r: {}}) {
				t.Fatalf("role %q not found", r)
			}
		}
	})
}

// FuzzEncodeAppData: encodeAppData never panics, refuses with one of its
// two sentinels, and what it encodes validAppData accepts and decodes back.
func FuzzEncodeAppData(f *testing.F) {
	f.Add("42", "admin", "", "tenant", "acme", "plan", "pro")
	f.Add("", "", "", "", "", "", "")
	f.Add("\x00", "a\nb", "\xff", "k k", "v", "k", "\xff")
	f.Add(strings.Repeat("u", 600), "r", "r", "a", strings.Repeat("v", 500), "b", "")
	f.Fuzz(func(t *testing.T, userID, role1, role2, k1, v1, k2, v2 string) {
		in := AppData{UserID: userID, Values: map[string]string{k1: v1, k2: v2}}
		for _, r := range []string{role1, role2} {
			if r != "" {
				in.Roles = append(in.Roles, r)
			}
		}
		raw, err := encodeAppData(in)
		if err != nil {
			if !errors.Is(err, ErrAppDataTooLarge) && !errors.Is(err, ErrInvalidAppData) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(raw) > MaxAppDataSize || !validAppData(raw) {
			t.Fatalf("encoding of %+v refused (%d bytes)", in, len(raw))
		}
		got := decodeAppData(raw)
		if got.UserID != in.UserID || !slices.Equal(got.Roles, in.Roles) || !maps.Equal(got.Values, in.Values) {
			t.Fatalf("round trip: got %+v, want %+v", got, in)
		}
	})
}

// TestAppData_SessionTooLarge: app data within its bounds that makes the
// whole session too large for the cookies fails as any oversized session
// does: ErrSessionTooLarge from startSession (the callback's
// session_too_large) and from SetAppData, and no session cookie is set. The
// session is sized through its claims, which only the core holds.
func TestAppData_SessionTooLarge(t *testing.T) {
	prov, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: "https://op.example.com", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{
		BaseURL:   "https://app.example.com",
		Secrets:   [][]byte{[]byte("0123456789abcdef0123456789abcdef-appdata")},
		Providers: []providers.Provider{prov},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	context := func(cookies ...*http.Cookie) (*gin.Context, *httptest.ResponseRecorder) {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodPost, "https://app.example.com/x", nil)
		for _, ck := range cookies {
			c.Request.AddCookie(ck)
		}
		return c, rec
	}
	start := func(claimLen int, data string) ([]*http.Cookie, error) {
		claims, _ := json.Marshal(map[string]string{"sub": "alice", "blob": strings.Repeat("x", claimLen)})
		c, rec := context()
		_, err := a.startSession(c, "test", &providers.Identity{Issuer: "https://op.example.com", Subject: "alice", Claims: claims,
			Token: providers.Token{AccessToken: "at"}}, data)
		var live []*http.Cookie
		for _, ck := range rec.Result().Cookies() {
			if ck.MaxAge >= 0 && ck.Value != "" {
				live = append(live, ck)
			}
		}
		return live, err
	}
	// The largest session that fits without app data.
	lo, hi := 1000, 40_000
	if _, err := start(lo, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := start(hi, ""); !errors.Is(err, ErrSessionTooLarge) {
		t.Fatalf("%d bytes of claims fit: %v", hi, err)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if _, err := start(mid, ""); err == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	big := AppData{UserID: "u", Values: map[string]string{"blob": strings.Repeat("x", MaxAppDataSize-20)}}

	// At sign-in.
	cookies, err := start(lo, mustEncodeAppData(big))
	if !errors.Is(err, ErrSessionTooLarge) || len(cookies) != 0 {
		t.Fatalf("sign-in with app data: %v, cookies %v", err, cookies)
	}

	// SetAppData on the largest session.
	cookies, err = start(lo, "")
	if err != nil || len(cookies) == 0 {
		t.Fatalf("sign-in: %v", err)
	}
	c, rec := context(cookies...)
	if err := a.SetAppData(c, big); !errors.Is(err, ErrSessionTooLarge) || strings.Count(err.Error(), "ginauth: ") != 1 {
		t.Fatalf("SetAppData: %v", err)
	}
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Fatalf("SetAppData set cookies: %q", got)
	}
	c, _ = context(cookies...)
	if l, err := a.loadSession(c, false); err != nil || l == nil || l.data != "" {
		t.Fatalf("session after the refused SetAppData: %v, %+v", err, l)
	}
	// Small app data fits a slightly smaller session.
	if cookies, err = start(lo-100, ""); err != nil {
		t.Fatal(err)
	}
	c, rec = context(cookies...)
	if err := a.SetAppData(c, AppData{Roles: []string{"r"}}); err != nil || len(rec.Header().Values("Set-Cookie")) == 0 {
		t.Fatalf("small SetAppData: %v", err)
	}
}
