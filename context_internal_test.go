package ginauth

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

type otherKey struct{}

// TestAttachContext checks that the request context attach installs carries
// the session and still behaves as the context it wraps: values, deadline,
// cancellation, also of contexts derived from it.
func TestAttachContext(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), otherKey{}, "other"), deadline)
	defer cancel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/api/me", nil).WithContext(parent)
	l := &loaded{}
	l.User.Subject = "alice"
	attach(c, l)

	ctx := c.Request.Context()
	if got := loadedFromContext(ctx); got != l {
		t.Fatalf("loadedFromContext = %p, want the attached %p", got, l)
	}
	if got := loadedFrom(c); got != l {
		t.Fatalf("loadedFrom = %p, want the attached %p", got, l)
	}
	if u, ok := UserFromContext(ctx); !ok || u.Subject != "alice" {
		t.Fatalf("UserFromContext = %+v, %v", u, ok)
	}
	if v := ctx.Value(otherKey{}); v != "other" {
		t.Fatalf("the wrapped context's value = %v, want other", v)
	}
	if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
		t.Fatalf("Deadline = %v %v, want %v", d, ok, deadline)
	}
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	if loadedFromContext(child) != l {
		t.Fatal("a derived context lost the session")
	}
	if ctx.Err() != nil || child.Err() != nil {
		t.Fatal("canceled before the parent was")
	}
	cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("canceling the request's parent context did not reach a context derived from the attached one")
	}
	if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
		t.Fatalf("Err = %v, %v, want context.Canceled", ctx.Err(), child.Err())
	}
}

// TestDecodeCoreGroupsBuffer checks that decoding into a Session whose
// Groups has room reuses it, and that a session without groups decodes to
// nil groups either way.
func TestDecodeCoreGroupsBuffer(t *testing.T) {
	s := Session{ID: "id", Provider: "dev", CreatedAt: time.UnixMilli(1_700_000_000_123), LastSeen: time.Unix(1_700_000_100, 0)}
	s.User.Subject, s.User.Groups = "alice", []string{"admin", "staff"}
	core := string(encodeCore(&s))
	var buf [4]string
	var got Session
	got.User.Groups = buf[:0]
	if err := decodeCore(core, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.User.Groups) != 2 || got.User.Groups[0] != "admin" || got.User.Groups[1] != "staff" || &got.User.Groups[0] != &buf[0] {
		t.Fatalf("groups = %q, want [admin staff] in the given buffer", got.User.Groups)
	}
	if cap(got.User.Groups) != 2 {
		t.Fatalf("cap(groups) = %d, want 2: an append to a copy of the user would write into the session's buffer", cap(got.User.Groups))
	}
	s.User.Groups = []string{"a", "b", "c", "d", "e"}
	got = Session{}
	got.User.Groups = buf[:0]
	if err := decodeCore(string(encodeCore(&s)), &got); err != nil || len(got.User.Groups) != 5 || got.User.Groups[4] != "e" {
		t.Fatalf("five groups: %q, %v", got.User.Groups, err)
	}
	s.User.Groups = nil
	got = Session{}
	got.User.Groups = buf[:0]
	if err := decodeCore(string(encodeCore(&s)), &got); err != nil || got.User.Groups != nil {
		t.Fatalf("no groups: %#v, %v", got.User.Groups, err)
	}
}
