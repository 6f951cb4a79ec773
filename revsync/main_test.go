package revsync

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a Run
// left running, a client left open.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
