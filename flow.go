package ginauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A sign-in flow's state lives in a sealed cookie of its own, named after a
// hash of its state value, so parallel sign-ins in several tabs do not
// disturb one another. The cookie is bound to the provider and the issuer,
// expires after FlowTTL, and is consumed by the first callback that presents
// its state; a server-side record of consumed states makes it single-use even
// when the cookie is replayed.

type flowState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	Provider string `json:"p"`
	Issuer   string `json:"i"`
	Callback string `json:"c"`
	Expires  int64  `json:"e"`
	FormPost bool   `json:"f,omitempty"`
}

// flowCookieName derives the per-flow cookie name from the state.
func (a *Auth) flowCookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return a.cookies.flow + hex.EncodeToString(sum[:8])
}

func (a *Auth) writeFlow(w http.ResponseWriter, f *flowState) {
	name := a.flowCookieName(f.State)
	plain, _ := json.Marshal(f) // plain strings and numbers cannot fail
	sameSite := http.SameSiteLaxMode
	if f.FormPost {
		sameSite = http.SameSiteNoneMode // the provider's cross-site POST must carry it
	}
	a.cookies.set(w, name, a.flowSeal.Seal(plain, []byte(name)), int(FlowTTL/time.Second), sameSite)
}

// takeFlow finds, opens and consumes the flow for state. It returns nil
// when there is no valid flow for this browser and state. The cookie is
// cleared whenever one was found.
func (a *Auth) takeFlow(w http.ResponseWriter, r *http.Request, state string) *flowState {
	name := a.flowCookieName(state)
	value, ok := readCookie(r, name)
	if !ok {
		return nil
	}
	a.cookies.set(w, name, "", -1, http.SameSiteLaxMode)
	plain, err := a.flowSeal.Open(value, []byte(name))
	if err != nil {
		return nil
	}
	var f flowState
	if json.Unmarshal(plain, &f) != nil || subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 {
		return nil
	}
	now := a.now()
	if now.Unix() >= f.Expires {
		return nil
	}
	if !a.used.claim(name, f.Expires, now.Unix()) {
		return nil
	}
	return &f
}

// maxDiscardedFlows bounds the flow cookies discardFlows looks at.
const maxDiscardedFlows = 32

// discardFlows consumes every flow cookie the request carries, except the
// one named skip (already handled by takeFlow). It is called when a callback
// cannot be matched to a flow (state missing, changed, duplicated, from
// another browser or provider): the response is untrusted and no pending
// sign-in of this browser may be completed with it or after it, so the
// reject consumes the transient state as RFC 9700 §4.7.1 asks. Each cookie is
// cleared, and those that open are recorded as used, so a replayed copy fails
// too.
func (a *Auth) discardFlows(w http.ResponseWriter, r *http.Request, skip string) {
	now := a.now().Unix()
	n := 0
	for _, ck := range r.Cookies() {
		if !strings.HasPrefix(ck.Name, a.cookies.flow) || ck.Name == skip {
			continue
		}
		if n++; n > maxDiscardedFlows {
			return
		}
		a.cookies.set(w, ck.Name, "", -1, http.SameSiteLaxMode)
		plain, err := a.flowSeal.Open(ck.Value, []byte(ck.Name))
		if err != nil {
			continue
		}
		var f flowState
		if json.Unmarshal(plain, &f) != nil || now >= f.Expires || a.flowCookieName(f.State) != ck.Name {
			continue
		}
		a.used.claim(ck.Name, f.Expires, now)
	}
}

// usedStates remembers consumed flows (and processed logout-token jti
// values) until they expire. It is bounded: when full, it drops expired
// entries, and then arbitrary ones down to half its size.
type usedStates struct {
	mu sync.Mutex
	m  map[string]int64
}

const maxUsedStates = 100_000

func newUsedStates() *usedStates { return &usedStates{m: make(map[string]int64)} }

// claim records key as used; it reports false if it was used before.
func (u *usedStates) claim(key string, expires, now int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, seen := u.m[key]; seen {
		return false
	}
	if len(u.m) >= maxUsedStates {
		for k, exp := range u.m {
			if exp <= now {
				delete(u.m, k)
			}
		}
		for k := range u.m {
			if len(u.m) < maxUsedStates/2 {
				break
			}
			delete(u.m, k)
		}
	}
	u.m[key] = expires
	return true
}

// release forgets key, so that it can be claimed again.
func (u *usedStates) release(key string) {
	u.mu.Lock()
	delete(u.m, key)
	u.mu.Unlock()
}
