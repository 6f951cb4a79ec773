package ginauth

import "encoding/json"

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
