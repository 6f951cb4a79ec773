package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// memory store's sweeper left running, a Redis client left open.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// MemoryLen is Memory.len for the external tests: how many sessions a
// memory store holds, expired ones not yet swept included.
var MemoryLen = (*Memory).len
