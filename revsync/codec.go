package revsync

import (
	"strconv"
	"strings"
	"time"

	"github.com/ginauth/ginauth"
)

// A revocation is kept and published as one string:
//
//	1:<kind>:<before Unix ms>:<expires Unix ms>:<len(a)>:<a><b>
//
// where a and b are the kind's two fields (session ID and nothing;
// provider and subject; provider and sid; nothing for RevokeAll). The same
// revocation always encodes the same, so publishing it again is a no-op.

// maxMember bounds an encoded revocation; longer ones are not published
// (see encode) and ignored when read.
const maxMember = 32 << 10

func fields(r ginauth.Revocation) (a, b string, ok bool) {
	switch r.Kind {
	case ginauth.RevokeSession:
		return r.SessionID, "", r.SessionID != ""
	case ginauth.RevokeUser:
		return r.Provider, r.Subject, r.Provider != "" && r.Subject != ""
	case ginauth.RevokeProviderSession:
		return r.Provider, r.SID, r.Provider != "" && r.SID != ""
	case ginauth.RevokeAll:
		return "", "", true
	}
	return "", "", false
}

// encode returns r's string, or false for a revocation that cannot be one.
func encode(r ginauth.Revocation) (string, bool) {
	a, b, ok := fields(r)
	if !ok {
		return "", false
	}
	var sb strings.Builder
	sb.Grow(40 + len(a) + len(b))
	sb.WriteString("1:")
	sb.WriteString(strconv.Itoa(int(r.Kind)))
	sb.WriteByte(':')
	sb.WriteString(strconv.FormatInt(r.Before.UnixMilli(), 10))
	sb.WriteByte(':')
	sb.WriteString(strconv.FormatInt(r.Expires.UnixMilli(), 10))
	sb.WriteByte(':')
	sb.WriteString(strconv.Itoa(len(a)))
	sb.WriteByte(':')
	sb.WriteString(a)
	sb.WriteString(b)
	if sb.Len() > maxMember {
		return "", false
	}
	return sb.String(), true
}

// decode parses an encoded revocation; false for anything else.
func decode(s string) (ginauth.Revocation, bool) {
	var r ginauth.Revocation
	if len(s) > maxMember {
		return r, false
	}
	rest, ok := strings.CutPrefix(s, "1:")
	if !ok {
		return r, false
	}
	next := func() (int64, bool) {
		i := strings.IndexByte(rest, ':')
		if i <= 0 || i > 20 {
			return 0, false
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		rest = rest[i+1:]
		return n, err == nil && n >= 0
	}
	kind, ok1 := next()
	before, ok2 := next()
	expires, ok3 := next()
	alen, ok4 := next()
	if !ok1 || !ok2 || !ok3 || !ok4 || alen > int64(len(rest)) {
		return r, false
	}
	r.Kind = ginauth.RevocationKind(kind)
	r.Before, r.Expires = time.UnixMilli(before), time.UnixMilli(expires)
	a, b := rest[:alen], rest[alen:]
	switch r.Kind {
	case ginauth.RevokeSession:
		r.SessionID = a
		ok = b == ""
	case ginauth.RevokeUser:
		r.Provider, r.Subject = a, b
	case ginauth.RevokeProviderSession:
		r.Provider, r.SID = a, b
	case ginauth.RevokeAll:
		ok = a == "" && b == ""
	default:
		return r, false
	}
	if _, _, complete := fields(r); !ok || !complete {
		return ginauth.Revocation{}, false
	}
	return r, true
}
