package redisclient

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestCheck(t *testing.T) {
	var nilClient *redis.Client
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer good.Close()
	noCtx := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer noCtx.Close()
	for name, tc := range map[string]struct {
		client redis.UniversalClient
		want   string
	}{
		"nil interface":             {nil, "ginauth: x: nil client"},
		"nil *redis.Client":         {nilClient, "ginauth: x: nil client"},
		"no ContextTimeoutEnabled":  {noCtx, "ginauth: x: the client ignores context deadlines"},
		"ContextTimeoutEnabled set": {good, ""},
	} {
		err := Check(tc.client, "x")
		if (err == nil) != (tc.want == "") || (err != nil && !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%s: Check = %v, want %q", name, err, tc.want)
		}
	}
}
