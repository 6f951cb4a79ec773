package store_test

import (
	"testing"

	"github.com/ginauth/ginauth/store"
	"github.com/ginauth/ginauth/store/storetest"
)

func TestCookieConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New:        func(*testing.T) store.Store { return store.NewCookie() },
		ServerSide: false, // the token is the session
	})
}
