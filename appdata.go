package ginauth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AppData is what the application keeps in a session next to the User: its
// own user ID, the user's roles and a few small values, such as a tenant or
// a plan. A SignInHook attaches it at sign-in (Allow().WithData(d)), a
// handler replaces it with Auth.SetAppData, handlers read it with
// AppDataFrom or Session.AppData, and RequireRole checks its roles, all
// without a database call per request.
//
// It is kept with the session in every store, next to the user's profile:
// with the cookie store sealed in the session cookie (so keep it small:
// every request carries it, and it counts toward the cookie size limits),
// with a server-side store in the stored session. It never reaches the
// browser in readable form, nor GET <group>/session.
//
// It is bounded:
//   - encoded, it takes at most MaxAppDataSize bytes: the lengths of the
//     user ID, roles, keys and values, plus one byte for each of these
//     strings (two for one of 128 bytes or more), plus two;
//   - at most MaxAppDataRoles roles, each non-empty;
//   - at most MaxAppDataValues values, whose keys are 1 to MaxAppDataKeyLen
//     ASCII letters, digits, '_', '-' or '.';
//   - every string is valid UTF-8; the user ID and roles hold no control
//     characters.
//
// Data outside these bounds is refused with an error wrapping
// ErrAppDataTooLarge (too much) or ErrInvalidAppData (malformed); see
// Validate. Keep anything larger in the application's database, keyed by
// UserID.
type AppData struct {
	// UserID is the application's own ID of the user, if it has one.
	UserID string `json:"userId,omitempty"`
	// Roles are the user's roles in the application, as RequireRole checks
	// them. Their order is kept.
	Roles []string `json:"roles,omitempty"`
	// Values holds a few small named values.
	Values map[string]string `json:"values,omitempty"`
}

// Limits of AppData.
const (
	// MaxAppDataSize bounds the encoded AppData, in bytes.
	MaxAppDataSize = 1024
	// MaxAppDataRoles bounds the number of roles.
	MaxAppDataRoles = 32
	// MaxAppDataValues bounds the number of values.
	MaxAppDataValues = 16
	// MaxAppDataKeyLen bounds the length of a value's key, in bytes.
	MaxAppDataKeyLen = 64
)

// Errors of AppData.
var (
	// ErrAppDataTooLarge: the AppData exceeds MaxAppDataSize encoded, or
	// has more than MaxAppDataRoles roles or MaxAppDataValues values.
	ErrAppDataTooLarge = errors.New("ginauth: app data too large")
	// ErrInvalidAppData: the AppData holds an empty role, a malformed key,
	// invalid UTF-8 or a control character where none is allowed.
	ErrInvalidAppData = errors.New("ginauth: invalid app data")
	// ErrResponseStarted: SetAppData was called after the response's
	// headers were written, too late to send a new session cookie.
	ErrResponseStarted = errors.New("ginauth: response already started")
)

// HasRole reports whether d holds role.
func (d AppData) HasRole(role string) bool { return slices.Contains(d.Roles, role) }

// IsZero reports whether d holds nothing.
func (d AppData) IsZero() bool { return d.UserID == "" && len(d.Roles) == 0 && len(d.Values) == 0 }

// Validate reports whether d fits the bounds described on AppData. The
// error wraps ErrAppDataTooLarge or ErrInvalidAppData and says which field
// is at fault.
func (d AppData) Validate() error {
	_, err := encodeAppData(d)
	return err
}

// appKeyChar reports whether c may appear in an AppData key.
func appKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func checkAppKey(k string) error {
	if k == "" || len(k) > MaxAppDataKeyLen {
		return fmt.Errorf("%w: key %.80q must have 1 to %d bytes", ErrInvalidAppData, k, MaxAppDataKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if !appKeyChar(k[i]) {
			return fmt.Errorf("%w: key %.80q may hold only ASCII letters, digits, '_', '-' and '.'", ErrInvalidAppData, k)
		}
	}
	return nil
}

// checkText refuses invalid UTF-8 and, with noControl, control characters.
func checkText(what, v string, noControl bool) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidAppData, what)
	}
	if noControl && strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: %s holds a control character", ErrInvalidAppData, what)
	}
	return nil
}

func checkRole(r string) error {
	if r == "" {
		return fmt.Errorf("%w: a role is empty", ErrInvalidAppData)
	}
	return checkText("a role", r, true)
}

// The encoding of AppData, kept in the session core (see codec.go) as one
// length-prefixed string, empty when there is no app data: the user ID, the
// number of roles and the roles, the number of values and the key and value
// of each, keys in increasing order. Strings are length-prefixed with
// minimal uvarints, as everywhere in the codec, so each AppData has exactly
// one encoding.

// encodeAppData checks d and returns its encoding ("" for the zero AppData).
func encodeAppData(d AppData) (string, error) {
	if len(d.Roles) > MaxAppDataRoles {
		return "", fmt.Errorf("%w: %d roles, at most %d (MaxAppDataRoles)", ErrAppDataTooLarge, len(d.Roles), MaxAppDataRoles)
	}
	if len(d.Values) > MaxAppDataValues {
		return "", fmt.Errorf("%w: %d values, at most %d (MaxAppDataValues)", ErrAppDataTooLarge, len(d.Values), MaxAppDataValues)
	}
	if err := checkText("the user ID", d.UserID, true); err != nil {
		return "", err
	}
	// Sizes first, so that a huge input is refused before any copy.
	size := 2 + strLen(d.UserID) // and the two counts, one byte each
	for _, r := range d.Roles {
		if err := checkRole(r); err != nil {
			return "", err
		}
		size += strLen(r)
	}
	keys := make([]string, 0, len(d.Values))
	for k, v := range d.Values {
		if err := checkAppKey(k); err != nil {
			return "", err
		}
		if err := checkText(fmt.Sprintf("the value of %q", k), v, false); err != nil {
			return "", err
		}
		size += strLen(k) + strLen(v)
		keys = append(keys, k)
	}
	if size > MaxAppDataSize {
		return "", fmt.Errorf("%w: %d bytes encoded, at most %d (MaxAppDataSize); keep larger data in the application's database, keyed by the user ID", ErrAppDataTooLarge, size, MaxAppDataSize)
	}
	if d.IsZero() {
		return "", nil
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = appendString(b, d.UserID)
	b = binary.AppendUvarint(b, uint64(len(d.Roles)))
	for _, r := range d.Roles {
		b = appendString(b, r)
	}
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, d.Values[k])
	}
	return string(b), nil
}

// strLen is the encoded size of a string of s's length.
func strLen(s string) int {
	n := len(s)
	for v := uint64(len(s)); ; v >>= 7 {
		n++
		if v < 0x80 {
			return n
		}
	}
}

// appDataReader walks an encoded AppData.
type appDataReader struct {
	d     decoder
	roles int // roles not yet read
	vals  int // values not yet read
}

func newAppDataReader(raw string) (r appDataReader, userID string) {
	r.d = decoder{s: raw}
	userID = r.d.str()
	r.roles = r.count(MaxAppDataRoles)
	return r, userID
}

func (r *appDataReader) count(limit int) int {
	n := r.d.uvarint()
	if n > uint64(limit) || n > uint64(len(r.d.s)) {
		r.d.err = true
		return 0
	}
	return int(n)
}

// role returns the next role; ok is false after the last one.
func (r *appDataReader) role() (string, bool) {
	if r.roles == 0 || r.d.err {
		return "", false
	}
	r.roles--
	return r.d.str(), !r.d.err
}

// startValues reads the number of values, after the last role.
func (r *appDataReader) startValues() {
	r.vals = r.count(MaxAppDataValues)
}

// value returns the next key and value; ok is false after the last one.
func (r *appDataReader) value() (k, v string, ok bool) {
	if r.vals == 0 || r.d.err {
		return "", "", false
	}
	r.vals--
	k, v = r.d.str(), r.d.str()
	return k, v, !r.d.err
}

// validAppData reports whether raw is an encoding that encodeAppData
// produces. It does not allocate.
func validAppData(raw string) bool {
	if raw == "" {
		return true
	}
	if len(raw) > MaxAppDataSize {
		return false
	}
	r, userID := newAppDataReader(raw)
	if r.d.err || checkText("", userID, true) != nil {
		return false
	}
	roles := r.roles
	for {
		role, ok := r.role()
		if !ok {
			break
		}
		if checkRole(role) != nil {
			return false
		}
	}
	r.startValues()
	vals := r.vals
	prev := ""
	for i := 0; ; i++ {
		k, v, ok := r.value()
		if !ok {
			break
		}
		if checkAppKey(k) != nil || checkText("", v, false) != nil || (i > 0 && k <= prev) {
			return false
		}
		prev = k
	}
	// An empty AppData is encoded as no app data at all.
	return !r.d.err && len(r.d.s) == 0 && (userID != "" || roles > 0 || vals > 0)
}

// decodeAppData decodes an encoding validAppData accepted.
func decodeAppData(raw string) AppData {
	if raw == "" {
		return AppData{}
	}
	r, userID := newAppDataReader(raw)
	d := AppData{UserID: userID}
	if r.roles > 0 {
		d.Roles = make([]string, 0, r.roles)
	}
	for {
		role, ok := r.role()
		if !ok {
			break
		}
		d.Roles = append(d.Roles, role)
	}
	r.startValues()
	if r.vals > 0 {
		d.Values = make(map[string]string, r.vals)
	}
	for {
		k, v, ok := r.value()
		if !ok {
			break
		}
		d.Values[k] = v
	}
	return d
}

// hasAnyRole reports whether the encoded AppData raw holds one of allowed,
// without decoding it.
func hasAnyRole(raw string, allowed map[string]struct{}) bool {
	if raw == "" {
		return false
	}
	r, _ := newAppDataReader(raw)
	for {
		role, ok := r.role()
		if !ok {
			return false
		}
		if _, ok := allowed[role]; ok {
			return true
		}
	}
}
