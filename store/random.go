package store

import "crypto/rand"

// randRead fills b with random bytes; it never fails since Go 1.24.
func randRead(b []byte) { rand.Read(b) }
