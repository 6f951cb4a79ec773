package ginauth

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// PageKind names one of the HTML pages ginauth serves.
type PageKind int

// The pages.
const (
	PageSignIn       PageKind = iota + 1 // provider list (GET <group>/signin)
	PageSignOut                          // sign-out confirmation (GET <group>/signout)
	PageError                            // a failure, with an error code
	PageForbidden                        // RequireClaim refused a browser request
	PageAccessDenied                     // a sign-in was refused (403): allow-list, SignInHook, provider restriction
)

// Page is what a page renderer gets. Every string is plain text; the
// built-in renderer escapes it with html/template. The texts (Title,
// Message, NextStep) come from Config.Texts, in Lang.
type Page struct {
	Kind   PageKind
	Status int

	Providers   []ProviderInfo // PageSignIn
	CSRFToken   string         // for the forms' csrfToken field
	CallbackURL string         // validated callbackUrl for the forms; the sign-out page's Cancel link
	FormAction  string         // PageSignOut: where the form posts

	ErrorCode  string // short fixed code, e.g. "access_denied"
	ErrorTitle string // fixed title for ErrorCode
	Message    string // fixed human-readable text for ErrorCode: what happened
	NextStep   string // fixed text for ErrorCode: what the visitor can do now
	User       *User  // the signed-in user, when there is one
	// Reason is PageAccessDenied's optional reason, a fixed text from the
	// SignInHook (at most MaxDenyReasonLen bytes).
	Reason string

	AppName string // Config.AppName, or BaseURL's host
	Title   string // the page's heading, e.g. "Sign in" or an error's title
	Lang    string // the texts' language tag, for <html lang>

	// HomeURL is the app's home page, BaseURL's origin and path followed by
	// "/" ("https://example.com/app/"): the target of "back" links. AuthURL
	// is the absolute URL of the auth routes, without a trailing slash: the
	// sign-in page is AuthURL + "/signin", the sign-out page AuthURL +
	// "/signout". ginauth fills both for every page, so that links keep
	// BaseURL's path prefix.
	HomeURL, AuthURL string

	// textVars are placeholder name, value pairs for ErrorCode's texts
	// (origin_mismatch: {configured} and {opened}).
	textVars []string
}

// ProviderInfo describes a provider for pages and the providers route.
type ProviderInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	SignInURL   string `json:"signinUrl"`
}

// errorText is the English text of one error code: a short title, what
// happened, and what the visitor can do next, in plain words. Config.Texts
// overrides them as "error.<code>.title", "error.<code>.text" and
// "error.<code>.next".
type errorText struct {
	title, text, next string
}

// errorMessages maps the fixed error codes to fixed texts: nothing a
// provider or a request sends is ever reflected. One line per code:
// {title, what happened, what to do next}.
var errorMessages = map[string]errorText{
	"access_denied":             {"Sign-in cancelled", "Sign-in was cancelled or refused. You, or the identity provider, did not allow this app to sign you in.", "Sign in again and accept the request at the provider, or choose another way to sign in."},
	"provider_error":            {"The provider could not sign you in", "The identity provider could not sign you in. It reported a problem.", "Try again in a moment. If it keeps happening, tell the app's administrator."},
	"provider_unavailable":      {"Sign-in provider unavailable", "The identity provider is unavailable. It did not answer in time, or is down.", "Wait a minute, then sign in again."},
	"invalid_state":             {"Sign-in link expired", "The sign-in link expired or was already used. A sign-in must finish within 10 minutes, in the browser that started it.", "Start the sign-in again from this site."},
	"invalid_callback":          {"Incomplete sign-in response", "The answer that came back from the identity provider was incomplete or malformed.", "Start the sign-in again. If it keeps happening, tell the app's administrator."},
	"issuer_mismatch":           {"Unexpected identity provider", "The sign-in response came from another identity provider than the one you chose, so it was rejected to protect your account.", "Start the sign-in again from this site. If it keeps happening, tell the app's administrator."},
	"token_exchange":            {"Sign-in not completed", "The identity provider refused to complete the sign-in.", "Sign in again. If it keeps happening, the app's settings at the provider may be wrong: tell the app's administrator."},
	"invalid_id_token":          {"Sign-in could not be verified", "The identity provider's answer failed validation, so this app could not trust it.", "Sign in again. If it keeps happening, tell the app's administrator."},
	"invalid_user_info":         {"Account details unusable", "The identity provider's account details could not be used.", "Check your profile at the provider and sign in again, or tell the app's administrator."},
	"not_allowed":               {"Access denied", "This account is not allowed to sign in here.", "Sign in with another account, or ask the app's administrator for access."},
	"session_too_large":         {"Account data too large", "Your account data is too large for a session cookie, so you could not be signed in.", "Tell the app's administrator: the app's settings need a change."},
	"session_store_unavailable": {"Sessions unavailable", "Sessions are unavailable right now, so you cannot be signed in or out.", "Wait a minute, then try again."},
	"provider_misconfigured":    {"Sign-in provider misconfigured", "This sign-in provider is misconfigured, so the sign-in could not be completed.", "The site's administrators need to fix it: tell them, or choose another way to sign in."},
	"origin_mismatch":           {"Wrong address", "This app is configured for {configured}, but you opened it at {opened}.", "Open {configured} instead and try again."},
	"csrf":                      {"Form expired", "The form expired or came from another site, so it was not accepted.", "Go back, reload the page and send the form again."},
	"unknown_provider":          {"Unknown sign-in option", "No such sign-in provider.", "Go back to the sign-in page and choose one of the options listed there."},
	"forbidden":                 {"You don't have access", "You are signed in, but your account does not have access to this page.", "Ask the app's administrator for access, or sign out and sign in with another account."},
	"bad_request":               {"Request not understood", "The request was malformed or too large, so it was not processed.", "Go back and try again."},
	"sign_in_unavailable":       {"Sign-in unavailable", "Sign-in could not be completed right now.", "Wait a minute, then try again."},
	"busy":                      {"Too many sign-ins", "Too many sign-ins are in progress.", "Wait a few minutes, then try again."},
	"app_data_too_large":        {"Session data too large", "This app tried to keep too much about your account in your session, so you were not signed in.", "Tell the app's administrators: the app needs a fix."},
	"app_data_invalid":          {"Session could not be set up", "This app could not set up your session, so you were not signed in.", "Tell the app's administrators: the app needs a fix."},
}

// knownCode reports whether code is in the message table; any other code
// is dropped, never shown.
func knownCode(code string) bool {
	_, ok := errorMessages[code]
	return ok
}

// page renders p with the configured renderer, after filling its texts
// and links.
func (a *Auth) page(c *gin.Context, p Page) {
	if p.Status == 0 {
		p.Status = http.StatusOK
	}
	a.texts.fill(&p)
	p.AppName = a.appName
	p.HomeURL, p.AuthURL = a.redirects.Default(), a.url("")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", a.pageCSP)
	a.render(c, p)
}
