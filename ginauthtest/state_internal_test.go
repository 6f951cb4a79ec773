package ginauthtest

import (
	"testing"
	"time"
)

// TestPruneDropsEndedSessions: a long-running development provider does not
// keep the sessions its users signed out of (the soak run's instance grew by
// one per sign-in before).
func TestPruneDropsEndedSessions(t *testing.T) {
	p, err := New("https://op.example", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	for _, sid := range []string{"a", "b", "c"} {
		p.sessions[sid] = &session{subject: "alice"}
	}
	p.sessions["d"] = &session{subject: "bob"}
	p.mu.Unlock()

	p.endSessions("a", "")
	p.endSessions("", "alice")
	p.mu.Lock()
	p.pruneLocked(time.Now())
	left := len(p.sessions)
	p.mu.Unlock()
	if left != 1 || !p.SessionActive("d") {
		t.Errorf("after ending alice's sessions and pruning: %d sessions left, bob's active %v; want bob's only", left, p.SessionActive("d"))
	}
	if p.SessionActive("a") || p.SessionActive("b") {
		t.Error("an ended session is active after pruning")
	}
}
