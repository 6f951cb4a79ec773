package store

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// MemoryOptions configure a memory store. The zero value is ready to use.
type MemoryOptions struct {
	// MaxSessions bounds the number of sessions kept. When a new session
	// would exceed it, the session that expires soonest is evicted, which
	// signs its user out. Zero or negative: 100 000.
	MaxSessions int
	// MaxSessionsPerUser caps the sessions one user (provider and subject)
	// has at a time, as RedisOptions.MaxSessionsPerUser does: a new session
	// beyond it ends the user's session that expires soonest. Zero or
	// negative: 100 (DefaultMaxSessionsPerUser).
	MaxSessionsPerUser int
	// SweepInterval is how often expired sessions are removed from memory.
	// They are invisible as soon as they expire, whatever this is. Zero or
	// negative: 1 minute.
	SweepInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Memory keeps sessions in the memory of one process: a server-side store
// for a single instance, for development and for tests. Sessions are lost
// when the process exits, and several instances do not share them: use
// [Redis] to scale out.
//
// Like [Redis], it gives the cookie an opaque token (32 random bytes,
// base64url), never adopts a token it did not issue, and finds a user's
// sessions through [Index]. Sessions and their indexes change together under
// one lock. Like Redis, it caps the sessions of one user
// (MemoryOptions.MaxSessionsPerUser).
//
// NewMemory starts a goroutine that removes expired sessions; Close stops it.
type Memory struct {
	mu       sync.RWMutex
	sessions map[string]*memSession // by token
	users    map[memKey]map[*memSession]struct{}
	sids     map[memKey]map[*memSession]struct{}
	byExpiry memHeap
	max      int
	perUser  int
	now      func() time.Time

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var (
	_ Store = (*Memory)(nil)
	_ Index = (*Memory)(nil)
)

// memSession is one session; its fields other than data and expiry never
// change.
type memSession struct {
	token    string
	data     []byte // replaced, never changed in place
	expiry   time.Time
	provider string
	subject  string
	sid      string
	index    int // in Memory.byExpiry
}

// memKey names a user (provider, subject) or a provider session
// (provider, sid).
type memKey struct{ provider, id string }

// memTokenLen is the length of a memory store token: base64url of 32 bytes.
const memTokenLen = 43

// NewMemory returns a memory store and starts its sweeper; call Close to
// stop it.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 100_000
	}
	if opts.MaxSessionsPerUser <= 0 {
		opts.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Memory{
		sessions: make(map[string]*memSession),
		users:    make(map[memKey]map[*memSession]struct{}),
		sids:     make(map[memKey]map[*memSession]struct{}),
		max:      opts.MaxSessions,
		perUser:  opts.MaxSessionsPerUser,
		now:      opts.Now,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go m.sweepLoop(opts.SweepInterval)
	return m
}

// Close stops the sweeper and waits for it to exit. The store keeps
// answering afterwards, but expired sessions are no longer removed from
// memory. Close is idempotent and always returns nil.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() { close(m.stop) })
	<-m.done
	return nil
}

func (m *Memory) sweepLoop(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep()
		}
	}
}

// sweep removes every expired session.
func (m *Memory) sweep() {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.byExpiry) > 0 && !now.Before(m.byExpiry[0].expiry) {
		m.remove(m.byExpiry[0])
	}
}

// len returns the number of sessions held, expired or not.
func (m *Memory) len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.sessions)
}

// Load implements Store.
func (m *Memory) Load(_ context.Context, token []byte) ([]byte, bool, error) {
	if len(token) != memTokenLen {
		return nil, false, nil
	}
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	e := m.sessions[string(token)]
	if e == nil || !now.Before(e.expiry) {
		return nil, false, nil
	}
	data := make([]byte, len(e.data))
	copy(data, e.data)
	return data, true, nil
}

// Save implements Store. An update keeps the session's provider, subject
// and sid; a record naming another user does not match the session, so the
// update returns ErrNotFound.
func (m *Memory) Save(_ context.Context, token []byte, rec Record) ([]byte, error) {
	if rec.Provider == "" || rec.Subject == "" {
		return nil, errors.New("ginauth: memory store: record without provider or subject")
	}
	now := m.now()
	if !rec.Expiry.After(now) {
		return nil, errors.New("ginauth: memory store: record already expired")
	}
	data := make([]byte, len(rec.Data))
	copy(data, rec.Data)

	m.mu.Lock()
	defer m.mu.Unlock()
	if token != nil {
		var e *memSession
		if len(token) == memTokenLen {
			e = m.sessions[string(token)]
		}
		if e == nil {
			return nil, ErrNotFound
		}
		if !now.Before(e.expiry) {
			m.remove(e)
			return nil, ErrNotFound
		}
		if e.provider != rec.Provider || e.subject != rec.Subject {
			return nil, ErrNotFound
		}
		if rec.IfMatch != nil && !bytes.Equal(e.data, rec.IfMatch) {
			return nil, ErrConflict
		}
		e.data, e.expiry = data, rec.Expiry
		heap.Fix(&m.byExpiry, e.index)
		return token, nil
	}

	for len(m.sessions) >= m.max {
		m.remove(m.byExpiry[0]) // expired or expiring soonest
	}
	m.capUser(memKey{rec.Provider, rec.Subject}, m.perUser-1)
	var tok string
	for {
		var raw [32]byte
		randRead(raw[:])
		tok = base64.RawURLEncoding.EncodeToString(raw[:])
		if m.sessions[tok] == nil {
			break
		}
	}
	e := &memSession{
		token:    tok,
		data:     data,
		expiry:   rec.Expiry,
		provider: rec.Provider,
		subject:  rec.Subject,
		sid:      rec.SID,
	}
	m.sessions[tok] = e
	heap.Push(&m.byExpiry, e)
	addTo(m.users, memKey{e.provider, e.subject}, e)
	if e.sid != "" {
		addTo(m.sids, memKey{e.provider, e.sid}, e)
	}
	return []byte(tok), nil
}

// capUser ends the sessions of user that expire soonest until it has at
// most n. The caller holds m.mu for writing. A user has at most
// MaxSessionsPerUser sessions, so the scan is bounded.
func (m *Memory) capUser(user memKey, n int) {
	for set := m.users[user]; len(set) > n; set = m.users[user] {
		var soonest *memSession
		for e := range set {
			if soonest == nil || e.expiry.Before(soonest.expiry) {
				soonest = e
			}
		}
		m.remove(soonest)
	}
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, token []byte) error {
	if len(token) != memTokenLen {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.sessions[string(token)]; e != nil {
		m.remove(e)
	}
	return nil
}

// List implements Index. The tokens come in no particular order.
func (m *Memory) List(_ context.Context, provider, subject string) ([][]byte, error) {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := m.users[memKey{provider, subject}]
	out := make([][]byte, 0, len(set))
	for e := range set {
		if now.Before(e.expiry) {
			out = append(out, []byte(e.token))
		}
	}
	return out, nil
}

// DeleteUser implements Index.
func (m *Memory) DeleteUser(_ context.Context, provider, subject string) (int, error) {
	return m.deleteAll(m.users, memKey{provider, subject}), nil
}

// DeleteSID implements Index.
func (m *Memory) DeleteSID(_ context.Context, provider, sid string) (int, error) {
	if sid == "" {
		return 0, nil
	}
	return m.deleteAll(m.sids, memKey{provider, sid}), nil
}

// deleteAll removes every session of index[k] and returns how many of them
// were live.
func (m *Memory) deleteAll(index map[memKey]map[*memSession]struct{}, k memKey) int {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for e := range index[k] {
		if now.Before(e.expiry) {
			n++
		}
		m.remove(e)
	}
	return n
}

// remove drops e and its index entries. The caller holds m.mu for writing.
func (m *Memory) remove(e *memSession) {
	delete(m.sessions, e.token)
	heap.Remove(&m.byExpiry, e.index)
	removeFrom(m.users, memKey{e.provider, e.subject}, e)
	if e.sid != "" {
		removeFrom(m.sids, memKey{e.provider, e.sid}, e)
	}
}

func addTo(index map[memKey]map[*memSession]struct{}, k memKey, e *memSession) {
	set := index[k]
	if set == nil {
		set = make(map[*memSession]struct{})
		index[k] = set
	}
	set[e] = struct{}{}
}

func removeFrom(index map[memKey]map[*memSession]struct{}, k memKey, e *memSession) {
	set := index[k]
	delete(set, e)
	if len(set) == 0 {
		delete(index, k)
	}
}

// memHeap orders sessions by expiry, soonest first (container/heap).
type memHeap []*memSession

func (h memHeap) Len() int           { return len(h) }
func (h memHeap) Less(i, j int) bool { return h[i].expiry.Before(h[j].expiry) }
func (h memHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *memHeap) Push(x any) {
	e := x.(*memSession)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *memHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
