package ginauth

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// The session encoding is a compact binary layout in two parts. The core
// (version byte, times, identity, profile, groups, app data) is what every
// request needs; the tokens part (provider tokens) is needed only to call or leave
// the provider. The cookie store seals them separately, so the hot path
// decrypts and decodes only the small core. Fields are unsigned varints
// (times as Unix seconds) and length-prefixed strings in a fixed order;
// decoding slices every string from one input string, so a session costs few
// allocations.

// codecVersion 4 added the app data at the end of the core. Sessions of an
// older version (never released) are refused: their users sign in again.
const codecVersion = 4

// maxStringLen bounds one field; a session is bounded by the cookie limits anyway.
const maxStringLen = 1 << 20

var errCodec = errors.New("ginauth: malformed session encoding")

func appendString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// encodeCore encodes everything of s but its tokens.
func encodeCore(s *Session) []byte {
	u := &s.User
	strs := [...]string{s.ID, s.Provider, u.Issuer, u.Subject, s.SID, u.Name, u.Email, u.Picture, u.claims}
	n := 1 + 2*binary.MaxVarintLen64 + 1 + 2*binary.MaxVarintLen64 + len(s.data)
	for _, v := range strs {
		n += binary.MaxVarintLen64 + len(v)
	}
	for _, g := range u.Groups {
		n += binary.MaxVarintLen64 + len(g)
	}
	b := make([]byte, 0, n)
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, unixMilliOrZero(s.CreatedAt))
	b = binary.AppendUvarint(b, unixOrZero(s.LastSeen))
	for _, v := range strs {
		b = appendString(b, v)
	}
	if u.EmailVerified {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(u.Groups)))
	for _, g := range u.Groups {
		b = appendString(b, g)
	}
	return appendString(b, s.data)
}

// encodeTokens encodes the provider tokens.
func encodeTokens(t *providers.Token) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64*5+len(t.AccessToken)+len(t.TokenType)+len(t.RefreshToken)+len(t.IDToken))
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, unixOrZero(t.Expiry))
	for _, v := range [...]string{t.AccessToken, t.TokenType, t.RefreshToken, t.IDToken} {
		b = appendString(b, v)
	}
	return b
}

// joinParts is the layout server-side stores keep: the core's length, the
// core, then the sealed tokens part.
func joinParts(core, tokens []byte) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(core)+len(tokens))
	b = binary.AppendUvarint(b, uint64(len(core)))
	b = append(b, core...)
	return append(b, tokens...)
}

// splitParts undoes joinParts.
func splitParts(data []byte) (core, tokens []byte, err error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n == 0 || n > uint64(len(data)-k) || k != len(binary.AppendUvarint(nil, n)) {
		return nil, nil, errCodec
	}
	return data[k : k+int(n)], data[k+int(n):], nil
}

// maxUnix bounds encoded times (year 36812); later times encode as zero.
const maxUnix = 1 << 40

func unixOrZero(t time.Time) uint64 {
	if t.IsZero() || t.Unix() < 0 || t.Unix() > maxUnix {
		return 0
	}
	return uint64(t.Unix())
}

// The creation time is kept to the millisecond: revocations ("every session
// of this user created before now") must tell a session started right after
// a sign-out from the ones it ended.
func unixMilliOrZero(t time.Time) uint64 {
	if t.IsZero() || t.UnixMilli() < 0 || t.UnixMilli() > maxUnix*1000 {
		return 0
	}
	return uint64(t.UnixMilli())
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

// timeMilli reads a Unix time in milliseconds written by unixMilliOrZero.
func (d *decoder) timeMilli() time.Time {
	v := d.uvarint()
	if v > maxUnix*1000 {
		d.err = true
		return time.Time{}
	}
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(v))
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

// decodeCore fills s from an encoded core; the strings of s are substrings
// of data, so decoding allocates only the groups slice, and not even that
// when s.User.Groups arrives with room for them (its backing array is then
// overwritten: only a buffer of the caller's own, as in loadSession).
func decodeCore(data string, s *Session) error {
	if len(data) == 0 || data[0] != codecVersion {
		return errCodec
	}
	d := decoder{s: data[1:]}
	s.CreatedAt, s.LastSeen = d.timeMilli(), d.time()
	u := &s.User
	s.ID, s.Provider, u.Issuer, u.Subject, s.SID = d.str(), d.str(), d.str(), d.str(), d.str()
	u.Name, u.Email, u.Picture, u.claims = d.str(), d.str(), d.str(), d.str()
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
	switch {
	case n == 0:
		u.Groups = nil
	case n <= uint64(cap(u.Groups)):
		// The caller's buffer (see loadSession), capped at n so that an
		// append to a copy of the user never writes into it.
		u.Groups = u.Groups[:n:n]
	default:
		u.Groups = make([]string, n)
	}
	if n > 0 {
		for i := range u.Groups {
			u.Groups[i] = d.str()
		}
	}
	s.data = d.str()
	if d.err || !validAppData(s.data) || len(d.s) != 0 || s.ID == "" || s.User.Subject == "" || s.CreatedAt.IsZero() || s.LastSeen.IsZero() {
		return errCodec
	}
	return nil
}

// decodeTokens fills t from an encoded tokens part.
func decodeTokens(data string, t *providers.Token) error {
	if len(data) == 0 || data[0] != codecVersion {
		return errCodec
	}
	d := decoder{s: data[1:]}
	t.Expiry = d.time()
	t.AccessToken, t.TokenType, t.RefreshToken, t.IDToken = d.str(), d.str(), d.str(), d.str()
	if d.err || len(d.s) != 0 {
		return errCodec
	}
	return nil
}
