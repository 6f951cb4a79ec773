package oidcjwt

import (
	"errors"
	"testing"
)

// TestSignatureReasons: the four reasons refine ErrSignature (so errors.Is
// on ErrSignature and ErrInvalidToken keeps working) and are distinct.
func TestSignatureReasons(t *testing.T) {
	reasons := []error{ErrAlgorithm, ErrUnknownKey, ErrKeyMismatch, ErrBadSignature}
	for i, r := range reasons {
		err := tokenError(r, "detail")
		if !errors.Is(err, r) || !errors.Is(err, ErrSignature) || !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%v: errors.Is fails on itself, ErrSignature or ErrInvalidToken", err)
		}
		for j, other := range reasons {
			if i != j && errors.Is(err, other) {
				t.Errorf("%v matches %v", err, other)
			}
		}
		for _, other := range []error{ErrMalformed, ErrIssuer, ErrAudience, ErrExpired, ErrIssuedAt, ErrNonce, ErrSubject, ErrKeysUnavailable} {
			if errors.Is(err, other) {
				t.Errorf("%v matches %v", err, other)
			}
		}
	}
}
