package ginauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ginauth/ginauth/internal/seal"
	"github.com/ginauth/ginauth/internal/ttlset"
)

// A sign-in flow's state lives in a sealed cookie of its own, named after a
// hash of its state value, so parallel sign-ins in several tabs do not
// disturb one another. The cookie is bound to the provider and the issuer,
// expires after FlowTTL, and is consumed by the first callback that presents
// its state; a server-side record of consumed states makes it single-use even
// when the cookie is replayed.
//
// Flow cookies are scoped to the auth routes (Path=<AuthPath>), the only
// place they are read, so they never ride on the app's other requests. A
// browser holds at most maxPendingFlows of them, of at most
// maxPendingFlowBytes together: starting one more drops the oldest. A page
// on another site that opens the sign-in URL again and again therefore
// cannot grow the browser's Cookie header (a "cookie bomb") nor push the
// session cookie out.

const (
	// maxPendingFlows bounds the sign-ins a browser can have in progress.
	maxPendingFlows = 4
	// maxCallbackURLBytes bounds the callbackUrl a flow remembers; a longer
	// one falls back to the default target.
	maxCallbackURLBytes = 2048
	// maxFlowCookieBytes bounds a flow cookie's name and value.
	maxFlowCookieBytes = 3600
	// maxPendingFlowBytes bounds the names and values of a browser's flow
	// cookies together: typical flows (~500 bytes) fit maxPendingFlows
	// times, one with a 2 KB callbackUrl leaves room for no other.
	maxPendingFlowBytes = 4096
	// maxConsumedFlows bounds the record of consumed flows. It never forgets
	// a flow before the flow expires: when it is full of live entries, new
	// callbacks are refused (errFlowRecordFull) until entries expire.
	maxConsumedFlows = 1 << 18
)

// errFlowRecordFull: the record of consumed flows is full of live entries,
// so a callback cannot be made single-use and is refused.
var errFlowRecordFull = errors.New("ginauth: too many sign-ins in progress")

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

// flows keeps the sign-in flows: their cookies and the record of consumed
// ones. It is the flow side of Auth.
type flows struct {
	seal     *seal.Sealer
	consumed *ttlset.Set[[16]byte, struct{}]
	cookies  *cookieNames
	prefix   string // cookie name prefix; the rest is a hash of the state
	path     string // cookie Path: the auth routes
	now      func() time.Time
}

// newFlows keeps flows in cookies named <name>-flow-<hash> (name is
// Config.CookieName) scoped to path, the auth routes.
func newFlows(sealer *seal.Sealer, cookies *cookieNames, name, path string, now func() time.Time) *flows {
	return &flows{
		seal:     sealer,
		consumed: ttlset.New[[16]byte, struct{}](maxConsumedFlows),
		cookies:  cookies,
		prefix:   securePrefix(cookies.secure, path) + name + "-flow-",
		path:     path,
		now:      now,
	}
}

// cookieName derives the per-flow cookie name from the state.
func (fl *flows) cookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return fl.prefix + hex.EncodeToString(sum[:8])
}

// consumedKey is the record's key for a flow.
func consumedKey(state string) [16]byte {
	sum := sha256.Sum256([]byte(state))
	return [16]byte(sum[:16])
}

func (fl *flows) set(w http.ResponseWriter, name, value string, maxAge int, sameSite http.SameSite) {
	fl.cookies.setAt(w, name, value, fl.path, maxAge, sameSite)
}

// write stores f in a new flow cookie, after dropping the oldest of the
// browser's pending flows so that at most maxPendingFlows remain.
func (fl *flows) write(w http.ResponseWriter, r *http.Request, f *flowState) error {
	name := fl.cookieName(f.State)
	plain, _ := json.Marshal(f) // plain strings and numbers cannot fail
	value := fl.seal.Seal(plain, []byte(name))
	if len(name)+len(value) > maxFlowCookieBytes {
		return fmt.Errorf("%w: sign-in state of %d bytes", ErrInvalidCallback, len(value))
	}
	fl.dropOldest(w, r, maxPendingFlows-1, maxPendingFlowBytes-len(name)-len(value))
	sameSite := http.SameSiteLaxMode
	if f.FormPost {
		sameSite = http.SameSiteNoneMode // the provider's cross-site POST must carry it
	}
	fl.set(w, name, value, int(FlowTTL/time.Second), sameSite)
	return nil
}

// dropOldest clears the request's flow cookies until at most keep of them,
// of at most room bytes together, remain: those that do not open first,
// then those that expire soonest.
func (fl *flows) dropOldest(w http.ResponseWriter, r *http.Request, keep, room int) {
	type pending struct {
		name    string
		expires int64
		size    int
	}
	var list []pending
	total := 0
	for _, ck := range r.Cookies() {
		if !strings.HasPrefix(ck.Name, fl.prefix) {
			continue
		}
		var f flowState
		expires := int64(0) // unreadable: dropped first
		if plain, err := fl.seal.Open(ck.Value, []byte(ck.Name)); err == nil && json.Unmarshal(plain, &f) == nil {
			expires = f.Expires
		}
		list = append(list, pending{ck.Name, expires, len(ck.Name) + len(ck.Value)})
		total += len(ck.Name) + len(ck.Value)
	}
	for len(list) > keep || (len(list) > 0 && total > room) {
		oldest := 0
		for i, p := range list {
			if p.expires < list[oldest].expires {
				oldest = i
			}
		}
		fl.set(w, list[oldest].name, "", -1, http.SameSiteLaxMode)
		total -= list[oldest].size
		list = append(list[:oldest], list[oldest+1:]...)
	}
}

// take finds, opens and consumes the flow for state. It returns nil when
// there is no valid flow for this browser and state, and errFlowRecordFull
// when the flow cannot be recorded as consumed. The cookie is cleared
// whenever one was found.
func (fl *flows) take(w http.ResponseWriter, r *http.Request, state string) (*flowState, error) {
	name := fl.cookieName(state)
	value, ok := readCookie(r, name)
	if !ok {
		return nil, nil
	}
	fl.set(w, name, "", -1, http.SameSiteLaxMode)
	plain, err := fl.seal.Open(value, []byte(name))
	if err != nil {
		return nil, nil
	}
	var f flowState
	if json.Unmarshal(plain, &f) != nil || subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 {
		return nil, nil
	}
	now := fl.now()
	if now.Unix() >= f.Expires {
		return nil, nil
	}
	claimed, err := fl.consumed.Claim(consumedKey(f.State), struct{}{}, time.Unix(f.Expires, 0), now)
	if err != nil {
		return nil, errFlowRecordFull
	}
	if !claimed {
		return nil, nil
	}
	return &f, nil
}

// maxDiscardedFlows bounds the flow cookies discard looks at.
const maxDiscardedFlows = 32

// discard consumes every flow cookie the request carries, except the one
// named skip (already handled by take). It is called when a callback cannot
// be matched to a flow (state missing, changed, duplicated, from another
// browser or provider): the response is untrusted and no pending sign-in of
// this browser may be completed with it or after it, so the reject consumes
// the transient state as RFC 9700 §4.7.1 asks. Each cookie is cleared, and
// those that open are recorded as consumed, so a replayed copy fails too
// (when the record is full, a replayed copy is refused by take anyway).
func (fl *flows) discard(w http.ResponseWriter, r *http.Request, skip string) {
	now := fl.now()
	n := 0
	for _, ck := range r.Cookies() {
		if !strings.HasPrefix(ck.Name, fl.prefix) || ck.Name == skip {
			continue
		}
		if n++; n > maxDiscardedFlows {
			return
		}
		fl.set(w, ck.Name, "", -1, http.SameSiteLaxMode)
		plain, err := fl.seal.Open(ck.Value, []byte(ck.Name))
		if err != nil {
			continue
		}
		var f flowState
		if json.Unmarshal(plain, &f) != nil || now.Unix() >= f.Expires || fl.cookieName(f.State) != ck.Name {
			continue
		}
		_, _ = fl.consumed.Claim(consumedKey(f.State), struct{}{}, time.Unix(f.Expires, 0), now)
	}
}
