package ginauth

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/providers"
)

func TestExtraParamsBounds(t *testing.T) {
	if got := extraParams(url.Values{"code": {"c"}, "state": {"s"}, "iss": {"i"}, "error": {"e"}}); got != nil {
		t.Errorf("protocol parameters kept: %v", got)
	}
	got := extraParams(url.Values{"user": {`{"name":{}}`}, "twice": {"a", "b"}, "code": {"c"}})
	if len(got) != 1 || got.Get("user") != `{"name":{}}` {
		t.Errorf("extra = %v", got)
	}
	many := url.Values{}
	for i := range 40 {
		many.Set(fmt.Sprintf("p%02d", i), "v")
	}
	if got := extraParams(many); len(got) != maxExtraParams || !got.Has("p00") || got.Has("p39") {
		t.Errorf("count bound: %d parameters kept", len(got))
	}
	big := url.Values{"a": {strings.Repeat("x", providers.MaxExtraBytes)}, "b": {"small"}}
	if got := extraParams(big); got.Has("a") || got.Get("b") != "small" {
		t.Errorf("size bound: %v", got.Has("a"))
	}
}
