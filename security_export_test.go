package ginauth

import (
	"encoding/binary"
	"encoding/json"
	"time"
)

// ResealFlowCallbackForTest opens the flow cookie value stored under name,
// replaces its stored callbackUrl with callback and seals it again with the
// app's own key. It simulates a stored callbackUrl that was tampered with
// while its integrity protection still holds (a compromised server-side
// store, a bug), for SECURITY.md OR-4. Tests only.
func (a *Auth) ResealFlowCallbackForTest(name, value, callback string) (string, error) {
	plain, err := a.flows.seal.Open(value, []byte(name))
	if err != nil {
		return "", err
	}
	var f flowState
	if err := json.Unmarshal(plain, &f); err != nil {
		return "", err
	}
	f.Callback = callback
	plain, err = json.Marshal(&f)
	if err != nil {
		return "", err
	}
	return a.flows.seal.Seal(plain, []byte(name)), nil
}

// FillConsumedFlowsForTest records n made-up flows as consumed until
// expires, as a flood of sign-ins started and finished by an anonymous
// client would. It reports how many fit. Tests only.
func (a *Auth) FillConsumedFlowsForTest(n int, expires time.Time) int {
	now := a.now()
	added := 0
	for i := range n {
		var key [16]byte
		binary.BigEndian.PutUint64(key[:], uint64(i)+1<<40)
		if ok, _ := a.flows.consumed.Claim(key, struct{}{}, expires, now); ok {
			added++
		}
	}
	return added
}

// MaxConsumedFlows is the bound of the record of consumed flows.
const MaxConsumedFlows = maxConsumedFlows

// MaxPendingFlows is how many sign-ins a browser may have in progress.
const MaxPendingFlows = maxPendingFlows
