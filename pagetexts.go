package ginauth

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of Config.AppName and Config.Texts values.
const (
	// MaxAppNameLen is the longest Config.AppName, in bytes.
	MaxAppNameLen = 80
	// MaxTextLen is the longest Config.Texts value, in bytes.
	MaxTextLen = 1000
)

// baseTexts are the English texts of the built-in pages that are not
// tied to an error code, by message ID. {app}, {provider} and {user} are
// placeholders, replaced (before escaping) by the app name, the provider's
// display name and the signed-in user's name.
var baseTexts = map[string]string{
	"lang":            "en",
	"dir":             "ltr",
	"signin.title":    "Sign in",
	"signin.heading":  "Sign in to {app}",
	"signin.intro":    "Choose how you want to sign in.",
	"signin.button":   "Sign in with {provider}",
	"signout.title":   "Sign out",
	"signout.heading": "Sign out of {app}?",
	"signout.user":    "You are signed in as {user}.",
	"signout.intro":   "You will need to sign in again to use {app}.",
	"signout.button":  "Sign out",
	"signout.cancel":  "Cancel",
	"error.title":     "Something went wrong",
	"error.text":      "The request could not be completed.",
	"error.next":      "Go back and try again.",
	"next.label":      "What you can do:",
	"reason.label":    "Reason:",
	"code.label":      "Error code:",
	"link.signin":     "Back to sign-in",
	"link.home":       "Go to the home page",
	"link.switch":     "Sign in with another account",
}

// placeholders lists, per message ID, the placeholders its text may use;
// any other {word} in an override is a mistake reported by New.
var placeholders = map[string][]string{
	"signin.heading":  {"app"},
	"signin.button":   {"provider"},
	"signout.heading": {"app"},
	"signout.user":    {"user"},
	"signout.intro":   {"app"},
	// Filled by ginauth with BaseURL's origin and the one the browser used
	// (a plain origin: scheme, host and port only).
	"error.origin_mismatch.text": {"configured", "opened"},
	"error.origin_mismatch.next": {"configured"},
}

// DefaultTexts returns the built-in pages' English texts by message ID: a
// fresh map, to start a translation from. Config.Texts overrides any of
// them. Besides the page texts, every error code has three IDs:
// "error.<code>.title", "error.<code>.text" (what happened) and
// "error.<code>.next" (what to do next). "lang" is the language tag of the
// texts (for <html lang>), "dir" their direction (ltr, rtl or auto).
func DefaultTexts() map[string]string {
	m := maps.Clone(baseTexts)
	for code, t := range errorMessages {
		m["error."+code+".title"] = t.title
		m["error."+code+".text"] = t.text
		m["error."+code+".next"] = t.next
	}
	return m
}

// pageTexts are the resolved texts of an Auth: the defaults with
// Config.Texts on top. It is read-only after New.
type pageTexts map[string]string

var (
	placeholderRe = regexp.MustCompile(`\{[A-Za-z_]+\}`)
	langRe        = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)
)

// newPageTexts checks overrides and merges them over the defaults.
func newPageTexts(overrides map[string]string) (pageTexts, error) {
	t := pageTexts(DefaultTexts())
	for _, id := range slices.Sorted(maps.Keys(overrides)) {
		v := overrides[id]
		if _, known := t[id]; !known {
			return nil, fmt.Errorf("%w: Texts: unknown message ID %q (see DefaultTexts)", ErrInvalidPageText, id)
		}
		if err := checkPageText(v, MaxTextLen); err != nil {
			return nil, fmt.Errorf("%w: Texts[%q]: %w", ErrInvalidPageText, id, err)
		}
		for _, ph := range placeholderRe.FindAllString(v, -1) {
			if !slices.Contains(placeholders[id], strings.Trim(ph, "{}")) {
				return nil, fmt.Errorf("%w: Texts[%q]: unknown placeholder %s (allowed: %q)", ErrInvalidPageText, id, ph, placeholders[id])
			}
		}
		switch {
		case id == "lang" && !langRe.MatchString(v):
			return nil, fmt.Errorf("%w: Texts[\"lang\"]: %q is not a language tag such as \"en\" or \"pt-BR\"", ErrInvalidPageText, v)
		case id == "dir" && v != "ltr" && v != "rtl" && v != "auto":
			return nil, fmt.Errorf("%w: Texts[\"dir\"]: %q is not ltr, rtl or auto", ErrInvalidPageText, v)
		}
		t[id] = v
	}
	return t, nil
}

// checkPageText accepts non-empty, valid UTF-8 text of at most max bytes,
// without control characters.
func checkPageText(v string, max int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return errors.New("empty")
	case len(v) > max:
		return fmt.Errorf("%d bytes, more than %d", len(v), max)
	case !utf8.ValidString(v):
		return errors.New("not valid UTF-8")
	case strings.ContainsFunc(v, unicode.IsControl):
		return errors.New("holds a control character")
	}
	return nil
}

// with returns the text of id with its placeholders replaced by the
// values given as name, value pairs.
func (t pageTexts) with(id string, pairs ...string) string {
	s := t[id]
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}

// fill sets p's language and texts: its title, and for an error code in
// the message table, the code's title, explanation and next step. A code
// that is not in the table is dropped, never shown.
func (t pageTexts) fill(p *Page) {
	p.Lang = t["lang"]
	switch {
	case p.Kind == PageForbidden && p.ErrorCode == "":
		p.ErrorCode = "forbidden"
	case p.Kind == PageAccessDenied && p.ErrorCode == "":
		p.ErrorCode = "not_allowed"
	}
	if !knownCode(p.ErrorCode) {
		p.ErrorCode = ""
	}
	prefix := "error."
	if p.ErrorCode != "" {
		prefix = "error." + p.ErrorCode + "."
	}
	switch p.Kind {
	case PageSignIn:
		p.Title = t["signin.title"]
	case PageSignOut:
		p.Title = t["signout.title"]
	default:
		p.Title = t[prefix+"title"]
	}
	if p.ErrorCode != "" || (p.Kind != PageSignIn && p.Kind != PageSignOut) {
		p.ErrorTitle = t[prefix+"title"]
		p.Message = t.with(prefix+"text", p.textVars...)
		p.NextStep = t.with(prefix+"next", p.textVars...)
	}
}
