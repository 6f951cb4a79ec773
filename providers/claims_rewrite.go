package providers

import (
	"bytes"
	"encoding/json"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// rewriteClaims decodes id.Claims, lets f change them and encodes them back.
// Presets use it to normalise what their provider sends.
func rewriteClaims(id *Identity, f func(claims map[string]any)) error {
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(id.Claims))
	dec.UseNumber() // large integers survive the round trip
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return errfmt.Errorf("%w: claims are not a JSON object", ErrClaimRejected)
	}
	f(claims)
	out, err := json.Marshal(claims)
	if err != nil {
		return errfmt.Errorf("%w: %w", ErrClaimRejected, err)
	}
	id.Claims = out
	return nil
}
