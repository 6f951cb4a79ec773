package ginauth

import (
	"encoding/binary"
	"errors"
	"time"
)

// The session encoding is a compact binary layout: a version byte, then
// unsigned varints (times as Unix seconds) and length-prefixed strings in a
// fixed order. Decoding converts the input to one string and slices every
// field from it, so a session costs few allocations on the hot path.

const codecVersion = 1

// maxStringLen bounds one field; a session is bounded by the cookie limits anyway.
const maxStringLen = 1 << 20

var errCodec = errors.New("ginauth: malformed session encoding")

func encodeSession(s *Session) []byte {
	u := &s.User
	strs := [...]string{s.ID, s.Provider, u.Issuer, u.Subject, u.Name, u.Email, u.Picture, u.claims,
		s.tokens.AccessToken, s.tokens.TokenType, s.tokens.RefreshToken, s.tokens.IDToken}
	n := 1 + 3*binary.MaxVarintLen64 + 1 + binary.MaxVarintLen64
	for _, v := range strs {
		n += binary.MaxVarintLen64 + len(v)
	}
	for _, g := range u.Groups {
		n += binary.MaxVarintLen64 + len(g)
	}
	b := make([]byte, 0, n)
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, unixOrZero(s.CreatedAt))
	b = binary.AppendUvarint(b, unixOrZero(s.LastSeen))
	b = binary.AppendUvarint(b, unixOrZero(s.tokens.Expiry))
	for _, v := range strs {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	if u.EmailVerified {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(u.Groups)))
	for _, g := range u.Groups {
		b = binary.AppendUvarint(b, uint64(len(g)))
		b = append(b, g...)
	}
	return b
}

// maxUnix bounds encoded times (year 36812); later times encode as zero.
const maxUnix = 1 << 40

func unixOrZero(t time.Time) uint64 {
	if t.IsZero() || t.Unix() < 0 || t.Unix() > maxUnix {
		return 0
	}
	return uint64(t.Unix())
}

func timeOrZero(v uint64) time.Time {
	if v == 0 || v > maxUnix {
		return time.Time{}
	}
	return time.Unix(int64(v), 0)
}

// decoder reads fields from a string. It accepts only the canonical
// encoding that encodeSession produces.
type decoder struct {
	s   string
	err bool
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if len(d.s) == 0 {
			d.err = true
			return 0
		}
		c := d.s[0]
		d.s = d.s[1:]
		if c < 0x80 {
			// Refuse overflow and non-minimal forms, so that every session
			// has exactly one encoding.
			if (i == binary.MaxVarintLen64-1 && c > 1) || (i > 0 && c == 0) {
				d.err = true
				return 0
			}
			return x | uint64(c)<<(7*i)
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	d.err = true
	return 0
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err || n > maxStringLen || n > uint64(len(d.s)) {
		d.err = true
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

// time reads a Unix time written by unixOrZero.
func (d *decoder) time() time.Time {
	v := d.uvarint()
	if v > maxUnix {
		d.err = true
	}
	return timeOrZero(v)
}

func (d *decoder) byte() byte {
	if len(d.s) == 0 {
		d.err = true
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

// decodeSession fills s from data; the strings of s are copies.
func decodeSession(data []byte, s *Session) error {
	return decodeSessionString(string(data), s)
}

// decodeSessionString fills s from data; the strings of s are substrings of
// data, so decoding allocates only the groups slice.
func decodeSessionString(data string, s *Session) error {
	if len(data) == 0 || data[0] != codecVersion {
		return errCodec
	}
	d := decoder{s: data[1:]}
	s.CreatedAt, s.LastSeen, s.tokens.Expiry = d.time(), d.time(), d.time()
	u := &s.User
	s.ID, s.Provider, u.Issuer, u.Subject = d.str(), d.str(), d.str(), d.str()
	u.Name, u.Email, u.Picture, u.claims = d.str(), d.str(), d.str(), d.str()
	s.tokens.AccessToken, s.tokens.TokenType, s.tokens.RefreshToken, s.tokens.IDToken = d.str(), d.str(), d.str(), d.str()
	u.Provider = s.Provider
	switch d.byte() {
	case 0:
		u.EmailVerified = false
	case 1:
		u.EmailVerified = true
	default:
		d.err = true
	}
	n := d.uvarint()
	if d.err || n > uint64(len(d.s)) {
		return errCodec
	}
	if n > 0 {
		u.Groups = make([]string, n)
		for i := range u.Groups {
			u.Groups[i] = d.str()
		}
	}
	if d.err || len(d.s) != 0 || s.ID == "" || s.User.Subject == "" || s.CreatedAt.IsZero() || s.LastSeen.IsZero() {
		return errCodec
	}
	return nil
}
