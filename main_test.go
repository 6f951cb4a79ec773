package ginauth_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// server, provider call and timer the tests start must be stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
