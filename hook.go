package ginauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/idna"

	"github.com/ginauth/ginauth/providers"
)

// SignInHook decides who may sign in. It runs in the callback, after the
// provider's answer was fully validated and before any session exists, with
// the request's context. It sees the provider's name and the User the
// session would hold, never a token.
//
// It returns [Allow]() to let the user in or [Deny](reason) to refuse: the
// browser then gets a 403 "access denied" page (a JSON client a 403
// {"error":"access_denied","reason":...}), no session is created, the
// sign-in flow is consumed and the provider's fresh tokens are revoked where
// the provider supports revocation. A non-nil error (or a panic) fails
// closed: no session, a 503 "try again" page, and a rate-limited warning.
type SignInHook func(ctx context.Context, in SignInAttempt) (SignInDecision, error)

// SignInAttempt is what a SignInHook is asked about.
type SignInAttempt struct {
	Provider string // the provider's name, as in Config.Providers
	User     User   // the user the session would hold
}

// SignInDecision is a SignInHook's answer. Build it with Allow or Deny; the
// zero value allows. New fields may be added; they will be optional.
type SignInDecision struct {
	deny   bool
	reason string

	data    string      // WithData: the AppData, encoded
	dataErr error       // WithData: why the AppData was refused
	first   bool        // FirstSignIn: reported in SignedInEvent
	rule    RefusalRule // what denied; "" means the hook
}

// MaxDenyReasonLen bounds the reason a SignInHook gives; longer reasons are
// cut (at a rune boundary).
const MaxDenyReasonLen = 200

// Allow lets the user sign in.
func Allow() SignInDecision { return SignInDecision{} }

// Deny refuses the sign-in. reason, which may be empty, is shown to the
// user as plain text (escaped, at most MaxDenyReasonLen bytes): make it a
// fixed text of the application's, never something a provider sent.
func Deny(reason string) SignInDecision {
	return SignInDecision{deny: true, reason: capReason(reason)}
}

// Denied reports whether d refuses the sign-in, and the reason it gives.
func (d SignInDecision) Denied() (bool, string) { return d.deny, d.reason }

// FirstSignIn marks an allowing decision as the first sign-in of this
// user, as the application knows it (for example, the hook just created
// the user's record): SignedInEvent.FirstSignIn reports it. It has no other
// effect: return ginauth.Allow().FirstSignIn(), nil.
func (d SignInDecision) FirstSignIn() SignInDecision {
	d.first = true
	return d
}

func capReason(s string) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= MaxDenyReasonLen {
		return s
	}
	s = s[:MaxDenyReasonLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// errHookFailed wraps a SignInHook's error or panic in the logs.
var errHookFailed = errors.New("ginauth: sign-in hook failed")

// runSignInHook calls the hook, turning a panic into an error.
func (a *Auth) runSignInHook(ctx context.Context, in SignInAttempt) (d SignInDecision, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = SignInDecision{}, fmt.Errorf("%w: panic: %v", errHookFailed, r)
		}
	}()
	d, err = a.signInHook(ctx, in)
	if err != nil {
		err = fmt.Errorf("%w: %w", errHookFailed, err)
	}
	return d, err
}

// checkSignIn runs the allow-list and the hook for a validated identity.
// It reports whether the callback may go on, with the hook's decision;
// when not, it has answered.
func (a *Auth) checkSignIn(c *gin.Context, name string, id *providers.Identity) (SignInDecision, bool) {
	if a.signInHook == nil {
		return Allow(), true
	}
	in := SignInAttempt{Provider: name, User: userFromClaims(name, id)}
	d, err := a.runSignInHook(c.Request.Context(), in)
	if err == nil && !d.deny {
		return d, a.checkDecisionData(c, name, id, d)
	}
	// No session will hold the fresh tokens: revoke them.
	a.revokeTokens(c.Request.Context(), name, id.Token)
	refused := SignInRefusedEvent{Time: a.now(), Provider: name, Issuer: id.Issuer, Subject: id.Subject, Rule: RefusedByHookError}
	if err != nil {
		a.warn.Warn("ginauth: sign-in hook failed", "provider", name, "err", err)
		emit(a, c.Request.Context(), "sign_in_refused", a.events.SignInRefused, refused)
		a.respondError(c, http.StatusServiceUnavailable, "sign_in_unavailable")
		return d, false
	}
	refused.Rule, refused.Reason = d.rule, d.reason
	if refused.Rule == "" {
		refused.Rule = RefusedByHook
	}
	emit(a, c.Request.Context(), "sign_in_refused", a.events.SignInRefused, refused)
	a.accessDenied(c, d.reason)
	return d, false
}

// accessDenied answers a refused sign-in with 403: the access-denied page,
// or JSON for a client that asks for it.
func (a *Auth) accessDenied(c *gin.Context, reason string) {
	if wantsJSON(c) {
		c.Header("Cache-Control", "no-store")
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "access_denied", "reason": reason})
		return
	}
	a.page(c, Page{Kind: PageAccessDenied, Status: http.StatusForbidden, ErrorCode: "not_allowed", Reason: reason})
	c.Abort()
}

// respondError answers with an error page, or JSON for a client asking for it.
func (a *Auth) respondError(c *gin.Context, status int, code string) {
	if wantsJSON(c) {
		c.Header("Cache-Control", "no-store")
		c.AbortWithStatusJSON(status, gin.H{"error": code})
		return
	}
	a.page(c, Page{Kind: PageError, Status: status, ErrorCode: code})
	c.Abort()
}

func wantsJSON(c *gin.Context) bool {
	accept := c.GetHeader("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// AllowList admits a user whose verified email address, verified email
// domain or group is listed. Build it with NewAllowList, or let New build
// one from Config.AllowedEmails, AllowedEmailDomains and AllowedGroups.
type AllowList struct {
	emails  map[string]bool // lower-cased addresses
	domains map[string]bool // lower-cased ASCII (punycode) domains
	groups  map[string]bool
}

// ErrInvalidAllowList: an allow-list entry is empty or malformed, or the
// list allows nobody.
var ErrInvalidAllowList = errors.New("ginauth: invalid allow-list")

// NewAllowList builds an allow-list. emails are compared case-insensitively
// and exactly; domains are compared exactly after lower-casing and IDNA
// (punycode) normalisation, never as suffixes (sub.example.com does not
// match example.com); groups are compared exactly. Only a verified email
// (User.EmailVerified) counts. An empty entry, an email without exactly
// one "@", a domain holding "@" or not a valid domain, or three empty lists
// is an error.
func NewAllowList(emails, domains, groups []string) (*AllowList, error) {
	if len(emails)+len(domains)+len(groups) == 0 {
		return nil, fmt.Errorf("%w: it allows nobody", ErrInvalidAllowList)
	}
	l := &AllowList{emails: map[string]bool{}, domains: map[string]bool{}, groups: map[string]bool{}}
	for _, e := range emails {
		local, domain, ok := splitEmail(e)
		if !ok {
			return nil, fmt.Errorf("%w: email %q is not local@domain", ErrInvalidAllowList, e)
		}
		d, err := normalizeDomain(domain)
		if err != nil {
			return nil, fmt.Errorf("%w: email %q: %w", ErrInvalidAllowList, e, err)
		}
		l.emails[strings.ToLower(local)+"@"+d] = true
	}
	for _, raw := range domains {
		if strings.Contains(raw, "@") {
			return nil, fmt.Errorf("%w: domain %q holds \"@\" (list addresses as emails)", ErrInvalidAllowList, raw)
		}
		d, err := normalizeDomain(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: domain %q: %w", ErrInvalidAllowList, raw, err)
		}
		l.domains[d] = true
	}
	for _, g := range groups {
		if g == "" || strings.TrimSpace(g) != g {
			return nil, fmt.Errorf("%w: group %q is empty or has surrounding spaces", ErrInvalidAllowList, g)
		}
		l.groups[g] = true
	}
	return l, nil
}

// Allows reports whether u is on the list.
func (l *AllowList) Allows(u User) bool {
	for _, g := range u.Groups {
		if l.groups[g] {
			return true
		}
	}
	if !u.EmailVerified {
		return false
	}
	local, domain, ok := splitEmail(u.Email)
	if !ok {
		return false
	}
	d, err := normalizeDomain(domain)
	if err != nil {
		return false
	}
	return l.domains[d] || l.emails[strings.ToLower(local)+"@"+d]
}

// Hook returns a SignInHook that denies, with reason, everyone not on the list.
func (l *AllowList) Hook(reason string) SignInHook {
	return func(_ context.Context, in SignInAttempt) (SignInDecision, error) {
		if l.Allows(in.User) {
			return Allow(), nil
		}
		return l.deny(reason), nil
	}
}

// deny is Deny(reason), marked as the allow-list's refusal.
func (l *AllowList) deny(reason string) SignInDecision {
	d := Deny(reason)
	d.rule = RefusedByAllowList
	return d
}

// splitEmail splits an address with exactly one "@" and both parts non-empty.
func splitEmail(e string) (local, domain string, ok bool) {
	local, domain, ok = strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || strings.TrimSpace(e) != e {
		return "", "", false
	}
	return local, domain, true
}

// domainProfile maps a domain (Unicode or punycode, any case) to its
// lower-case ASCII form and refuses what is not a host name.
var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true), idna.StrictDomainName(true), idna.VerifyDNSLength(true))

func normalizeDomain(d string) (string, error) {
	if d == "" || strings.TrimSpace(d) != d {
		return "", errors.New("empty or surrounded by spaces")
	}
	a, err := domainProfile.ToASCII(d)
	if err != nil {
		return "", err
	}
	return strings.ToLower(a), nil
}

// chainHooks runs the allow-list first, then the hook.
func chainHooks(list *AllowList, hook SignInHook) SignInHook {
	switch {
	case list == nil:
		return hook
	case hook == nil:
		return list.Hook("")
	}
	return func(ctx context.Context, in SignInAttempt) (SignInDecision, error) {
		if !list.Allows(in.User) {
			return list.deny(""), nil
		}
		return hook(ctx, in)
	}
}
