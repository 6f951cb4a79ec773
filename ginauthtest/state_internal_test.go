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

// TestEndSessionRevokesItsGrants: ending an OP session revokes the refresh
// tokens issued in it (and so their access tokens), and only those; a
// development provider used for long then drops them.
func TestEndSessionRevokesItsGrants(t *testing.T) {
	p, err := New("https://op.example", Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p.mu.Lock()
	for _, g := range []*grant{{subject: "alice", sid: "a1"}, {subject: "alice", sid: "a2"}, {subject: "bob", sid: "b1"}} {
		p.sessions[g.sid] = &session{subject: g.subject}
		p.refresh["rt-"+g.sid] = g
		p.access["at-"+g.sid] = &accessToken{grant: g, expires: now.Add(time.Hour)}
	}
	p.mu.Unlock()
	if n := p.ActiveTokens(); n != 6 {
		t.Fatalf("ActiveTokens = %d; want 6", n)
	}

	p.endSessions("a1", "")
	if n := p.ActiveTokens(); n != 4 {
		t.Errorf("after ending a1: ActiveTokens = %d; want 4 (a1's refresh and access tokens revoked)", n)
	}
	p.endSessions("", "alice")
	if n := p.ActiveTokens(); n != 2 {
		t.Errorf("after ending alice's sessions: ActiveTokens = %d; want bob's 2", n)
	}
	p.mu.Lock()
	p.pruneLocked(now)
	grants, sessions := len(p.refresh), len(p.sessions)
	p.mu.Unlock()
	if grants != 1 || sessions != 1 {
		t.Errorf("after pruning: %d grants, %d sessions; want bob's only", grants, sessions)
	}
}
