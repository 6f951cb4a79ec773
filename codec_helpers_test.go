package ginauth

// Test helpers: the whole session, core and tokens, unsealed.

// encodeSession encodes core and tokens in the joinParts layout, unsealed.
func encodeSession(s *Session) []byte {
	return joinParts(encodeCore(s), encodeTokens(&s.tokens))
}

// decodeSession undoes encodeSession.
func decodeSession(data []byte, s *Session) error {
	core, tokens, err := splitParts(data)
	if err != nil {
		return err
	}
	if err := decodeCore(string(core), s); err != nil {
		return err
	}
	return decodeTokens(string(tokens), &s.tokens)
}
