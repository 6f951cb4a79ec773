package ginauthtest_test

import (
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
)

// BenchmarkSignIn is the cost of one SignIn (the whole flow, in-process on
// the browser side, over loopback for the app's calls to the provider):
// what a test pays per signed-in client.
func BenchmarkSignIn(b *testing.B) {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer op.Close()
	app := newKitApp(b, op)
	u := ginauthtest.User{Subject: "bench", Groups: []string{"admin"}}
	b.ReportAllocs()
	for b.Loop() {
		if op.SignIn(b, app, u) == nil {
			b.Fatal("no client")
		}
	}
}
