package ginauthtest

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"unicode/utf8"
)

// The kit reads the provider's form_post page back: whatever the values,
// parseFormPost returns the action and fields the page was rendered with,
// and neither it nor pageMessage panics on any input.
func FuzzKitHTML(f *testing.F) {
	p, err := New("http://op.test", Options{})
	if err != nil {
		f.Fatal(err)
	}
	const action = "https://app.example/auth/callback/dev?a=1&b=2"
	f.Add("code", "abc", "state", `x"><script>alert(1)</script>`)
	f.Add("iss", "http://op.test", "error_description", "a & b < c &amp; d")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		_ = pageMessage(k1 + v1 + k2 + v2)
		_, _, _ = parseFormPost(k1 + v1 + k2 + v2)

		values := url.Values{}
		values.Add(k1, v1)
		values.Add(k2, v2)
		rec := httptest.NewRecorder()
		p.formPostPage(rec, action, values)
		page := rec.Body.String()
		_ = pageMessage(page)
		gotAction, gotFields, err := parseFormPost(page)
		for _, s := range []string{k1, v1, k2, v2} {
			if !plainText(s) {
				return // HTML parsing rewrites NUL, CR and invalid UTF-8
			}
		}
		if err != nil || gotAction != action || !reflect.DeepEqual(gotFields, values) {
			t.Fatalf("round trip: fields %q → %q, action %q, err %v", values, gotFields, gotAction, err)
		}
	})
}

// plainText reports whether s is valid UTF-8 with no NUL or CR, which an
// HTML parser would replace or normalise.
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == 0 || r == '\r' {
			return false
		}
	}
	return true
}
