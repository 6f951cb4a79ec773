package ginauth

import (
	"html/template"
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
// built-in renderer escapes it with html/template.
type Page struct {
	Kind   PageKind
	Status int

	Providers   []ProviderInfo // PageSignIn
	CSRFToken   string         // for the forms' csrfToken field
	CallbackURL string         // validated callbackUrl for the forms
	FormAction  string         // PageSignOut: where the form posts

	ErrorCode string // short fixed code, e.g. "access_denied"
	Message   string // fixed human-readable text for ErrorCode
	User      *User  // the signed-in user, when there is one
	// Reason is PageAccessDenied's optional reason, a fixed text from the
	// SignInHook (at most MaxDenyReasonLen bytes).
	Reason string

	// HomeURL is the app's home page, BaseURL's origin and path followed by
	// "/" ("https://example.com/app/"): the target of "back" links. AuthURL
	// is the absolute URL of the auth routes, without a trailing slash: the
	// sign-in page is AuthURL + "/signin", the sign-out page AuthURL +
	// "/signout". ginauth fills both for every page, so that links keep
	// BaseURL's path prefix.
	HomeURL, AuthURL string
}

// ProviderInfo describes a provider for pages and the providers route.
type ProviderInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	SignInURL   string `json:"signinUrl"`
}

// errorMessages maps the fixed error codes to fixed texts: nothing a
// provider or a request sends is ever reflected.
var errorMessages = map[string]string{
	"access_denied":             "Sign-in was cancelled or refused.",
	"provider_error":            "The identity provider could not sign you in.",
	"provider_unavailable":      "The identity provider is unavailable. Please try again later.",
	"provider_misconfigured":    "This sign-in provider is misconfigured. The site's administrators need to fix it.",
	"invalid_state":             "The sign-in link expired or was already used. Please sign in again.",
	"invalid_callback":          "The sign-in response was malformed. Please sign in again.",
	"issuer_mismatch":           "The sign-in response came from an unexpected identity provider.",
	"token_exchange":            "The identity provider refused to complete the sign-in.",
	"invalid_id_token":          "The identity provider's answer failed validation.",
	"invalid_user_info":         "The identity provider's account details could not be used.",
	"not_allowed":               "This account is not allowed to sign in here.",
	"session_too_large":         "Your account data is too large for a session cookie.",
	"session_store_unavailable": "Sessions are unavailable right now. Please try again later.",
	"csrf":                      "The form expired or came from another site. Please try again.",
	// origin_mismatch: {configured} and {opened} are replaced with BaseURL's
	// origin and the browser's (a plain origin, escaped like every text).
	"origin_mismatch":     "This app is configured for {configured}, but you opened it at {opened}. Open {configured} instead.",
	"unknown_provider":    "No such sign-in provider.",
	"forbidden":           "You do not have access to this page.",
	"bad_request":         "The request was malformed.",
	"sign_in_unavailable": "Sign-in could not be completed right now. Please try again.",
	"busy":                "Too many sign-ins are in progress. Please try again in a few minutes.",
	"app_data_too_large":  "This app tried to keep too much about your account in your session, so you were not signed in. Please tell the app's administrators.",
	"app_data_invalid":    "This app could not set up your session, so you were not signed in. Please tell the app's administrators.",
}

func messageFor(code string) (string, string) {
	if msg, ok := errorMessages[code]; ok {
		return code, msg
	}
	return "", ""
}

// page renders p with the configured renderer, after filling the message.
func (a *Auth) page(c *gin.Context, p Page) {
	if p.Status == 0 {
		p.Status = http.StatusOK
	}
	if p.ErrorCode != "" && p.Message == "" {
		p.ErrorCode, p.Message = messageFor(p.ErrorCode)
	}
	p.HomeURL, p.AuthURL = a.redirects.Default(), a.url("")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	a.render(c, p)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{if eq .Kind 1}}Sign in{{else if eq .Kind 2}}Sign out{{else if eq .Kind 4}}Forbidden{{else if eq .Kind 5}}Access denied{{else}}Error{{end}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
button{display:block;width:100%;padding:.7rem;margin:.5rem 0;font-size:1rem;cursor:pointer}
.error{background:#fde8e8;border:1px solid #f5b5b5;padding:.7rem;border-radius:4px}</style></head><body>
{{if eq .Kind 1}}<h1>Sign in</h1>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
{{range .Providers}}<form method="post" action="{{.SignInURL}}">
<input type="hidden" name="csrfToken" value="{{$.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{$.CallbackURL}}">
<button type="submit">Sign in with {{.DisplayName}}</button></form>
{{end}}
{{else if eq .Kind 2}}<h1>Sign out</h1>
{{if .User}}<p>Signed in as {{if .User.Name}}{{.User.Name}}{{else}}{{.User.Subject}}{{end}}.</p>{{end}}
<form method="post" action="{{.FormAction}}">
<input type="hidden" name="csrfToken" value="{{.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{.CallbackURL}}">
<button type="submit">Sign out</button></form>
{{else if eq .Kind 4}}<h1>Forbidden</h1><p>{{.Message}}</p>
{{else if eq .Kind 5}}<h1>Access denied</h1><p class="error" role="alert">{{.Message}}</p>{{if .Reason}}<p>{{.Reason}}</p>{{end}}
{{else}}<h1>Something went wrong</h1><p class="error" role="alert">{{if .Message}}{{.Message}}{{else}}The request could not be completed.{{end}}</p>
{{end}}</body></html>
`))

func renderBuiltinPage(c *gin.Context, p Page) {
	c.Status(p.Status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(c.Writer, p); err != nil {
		_ = c.Error(err)
	}
}
