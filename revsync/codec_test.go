package revsync

import (
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
)

func TestCodec(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_123)
	for _, r := range []ginauth.Revocation{
		{Kind: ginauth.RevokeSession, SessionID: "abc:def", Before: at, Expires: at.Add(time.Hour)},
		{Kind: ginauth.RevokeUser, Provider: "p", Subject: "1:2:3", Before: at, Expires: at.Add(time.Hour)},
		{Kind: ginauth.RevokeProviderSession, Provider: "google", SID: "s", Before: at, Expires: at.Add(time.Hour)},
		{Kind: ginauth.RevokeAll, Before: at, Expires: at.Add(time.Hour)},
	} {
		m, ok := encode(r)
		if !ok {
			t.Fatalf("encode(%+v) failed", r)
		}
		got, ok := decode(m)
		if !ok || got.Kind != r.Kind || got.SessionID != r.SessionID || got.Provider != r.Provider ||
			got.Subject != r.Subject || got.SID != r.SID || !got.Before.Equal(r.Before) || !got.Expires.Equal(r.Expires) {
			t.Errorf("decode(encode(%+v)) = %+v, %v", r, got, ok)
		}
	}
	for name, r := range map[string]ginauth.Revocation{
		"no kind":        {Subject: "x"},
		"user no sub":    {Kind: ginauth.RevokeUser, Provider: "p"},
		"session no id":  {Kind: ginauth.RevokeSession},
		"too long":       {Kind: ginauth.RevokeUser, Provider: "p", Subject: strings.Repeat("x", maxMember)},
		"sid no provide": {Kind: ginauth.RevokeProviderSession, SID: "s"},
	} {
		if m, ok := encode(r); ok {
			t.Errorf("%s: encoded as %q", name, m)
		}
	}
	for _, bad := range []string{"", "1:", "2:2:0:0:1:pa", "1:9:0:0:0:", "1:2:0:0:5:p", "1:2:-1:0:1:pa", "1:1:0:0:2:idx",
		"1:4:0:0:1:x", "1:2:0:0:1:p", "1:2:0:0:0:sub", "1:2:99999999999999999999999:0:1:pa"} {
		if r, ok := decode(bad); ok {
			t.Errorf("decode(%q) = %+v", bad, r)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("1:2:1:2:1:pa")
	f.Add("1:1:0:5:3:abc")
	f.Add("1:4:0:0:0:")
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := decode(s)
		if !ok {
			return
		}
		m, ok := encode(r)
		if !ok {
			t.Fatalf("decoded %q to %+v, which does not encode", s, r)
		}
		if r2, ok := decode(m); !ok || r2 != r {
			t.Fatalf("round trip of %q: %+v then %+v", s, r, r2)
		}
	})
}
