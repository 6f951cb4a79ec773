package main

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// pageTemplates are the app's pages. html/template escapes every value. Only
// the home page has scripts, and no inline ones: ginauth's client script and
// the app's own (static/app.js), both same-origin files, so the
// Content-Security-Policy allows script-src 'self' and nothing else. The
// script buttons are hidden until app.js shows them.
var pageTemplates = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}} · ginauth example</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
nav a{margin-right:1rem}
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.7rem 1rem;border-radius:4px}
.error{background:#fde8e8;border:1px solid #f5b5b5;padding:.7rem 1rem;border-radius:4px}
button{padding:.6rem 1rem;margin:.3rem 0;font-size:1rem;cursor:pointer}
dt{font-weight:600}
</style></head><body>
{{if .Dev}}<p class="banner" role="note"><strong>Development provider enabled.</strong> Anyone can sign in as a test user without a password. Never run this in production.</p>{{end}}
<nav><a href="{{.Base}}/">Home</a><a href="{{.Base}}/me">Me</a><a href="{{.Base}}/admin">Admin</a><a href="{{.Base}}/api/me">{{.Base}}/api/me</a></nav>
{{end}}

{{define "foot"}}</body></html>
{{end}}

{{define "user"}}<dl>
<dt>Name</dt><dd>{{.Name}}</dd>
<dt>Email</dt><dd>{{.Email}}{{if .EmailVerified}} (verified){{end}}</dd>
<dt>Groups</dt><dd>{{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{else}}none{{end}}</dd>
<dt>Provider</dt><dd>{{.Provider}}</dd>
<dt>Subject</dt><dd>{{.Subject}} <small>at {{.Issuer}}</small></dd>
</dl>{{end}}

{{define "signout-form"}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{.CallbackURL}}">
<label><input type="checkbox" name="revokeToken" value="true"> also revoke the provider's tokens</label>
<button type="submit">Sign out</button></form>{{end}}

{{define "signin-forms"}}{{range .Providers}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{$.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{$.CallbackURL}}">
<button type="submit">Sign in with {{.DisplayName}}</button></form>
{{end}}{{end}}

{{define "index"}}{{template "head" .}}<h1>ginauth example</h1>
{{if .User}}<p>You are signed in.</p>
{{template "user" .User}}
{{template "signout-form" .}}
<p><button type="button" id="js-signout" hidden>Sign out with the client script (also revokes the tokens)</button></p>
{{else}}<p>You are signed out.</p>
{{template "signin-forms" .}}
{{with .ScriptSignIn}}<p><button type="button" id="js-signin" data-provider="{{.Name}}" hidden>Sign in with {{.DisplayName}} through the client script</button></p>{{end}}
{{end}}<p id="js-session" data-state="loading" hidden></p>
<p id="js-error" class="error" role="alert" hidden></p>
<script src="{{.ClientScriptURL}}"></script>
<script src="{{.AppScriptURL}}"></script>
{{template "foot"}}{{end}}

{{define "me"}}{{template "head" .}}<h1>Me</h1>
{{template "user" .User}}
<p>This session ends at {{.ExpiresAt}} unless you use it again.</p>
{{template "foot"}}{{end}}

{{define "admin"}}{{template "head" .}}<h1>Admin</h1>
<p>Welcome, {{.User.Name}}: you are in the <code>admin</code> group.</p>
{{template "foot"}}{{end}}

{{define "auth-signin"}}{{template "head" .}}<h1>Sign in</h1>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
{{template "signin-forms" .}}
{{template "foot"}}{{end}}

{{define "auth-signout"}}{{template "head" .}}<h1>Sign out</h1>
{{if .User}}<p>Signed in as {{if .User.Name}}{{.User.Name}}{{else}}{{.User.Subject}}{{end}}.</p>{{end}}
{{template "signout-form" .}}
{{template "foot"}}{{end}}

{{define "message"}}{{template "head" .}}<h1>{{.Title}}</h1>
<p class="error" role="alert">{{.Message}}</p>
<p><a href="{{.Base}}/">Back to the home page</a></p>
{{template "foot"}}{{end}}
`))

// providerButton is one sign-in form.
type providerButton struct {
	Name        string // the provider's name (for the client script's signIn)
	DisplayName string
	Action      string // the provider's sign-in route
}

// pageData is what every page template gets; each page uses a part of it.
type pageData struct {
	Title string
	Dev   bool   // show the development-provider banner
	Base  string // GINAUTH_URL's path ("" or "/app"): the links' prefix

	User      *ginauth.User
	ExpiresAt string

	Providers   []providerButton
	CSRFToken   string
	CallbackURL string
	Action      string // the sign-out form's action

	// The home page's scripts: ginauth's client and the app's own, and the
	// provider of its script sign-in button.
	ClientScriptURL string
	AppScriptURL    string
	ScriptSignIn    *providerButton

	Message string
}

// contentSecurityPolicy is the pages' CSP: same-origin script files (no
// inline script, no eval) and same-origin fetch (the client script's calls to
// /auth), inline styles, nothing else; no framing. It sets no form-action:
// Chromium applies it to the redirects that follow a form submission too,
// and a sign-in form's redirect goes to the provider's origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

// renderPage writes the named template with status. The page is rendered
// into a buffer first, so a template error never sends half a page.
func renderPage(c *gin.Context, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		_ = c.Error(err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	h := c.Writer.Header()
	// Pages show the user and carry CSRF tokens: never cache them.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// authPageRenderer renders ginauth's own pages (Config.RenderPage) in the
// app's layout, so that they carry the same banner.
func authPageRenderer(dev bool, base string) func(c *gin.Context, p ginauth.Page) {
	return func(c *gin.Context, p ginauth.Page) {
		data := pageData{
			Dev:         dev,
			Base:        base,
			User:        p.User,
			CSRFToken:   p.CSRFToken,
			CallbackURL: p.CallbackURL,
			Action:      p.FormAction,
			Message:     p.Message,
		}
		switch p.Kind {
		case ginauth.PageSignIn:
			data.Title = "Sign in"
			for _, info := range p.Providers {
				data.Providers = append(data.Providers, providerButton{DisplayName: info.DisplayName, Action: info.SignInURL})
			}
			renderPage(c, p.Status, "auth-signin", data)
		case ginauth.PageSignOut:
			data.Title = "Sign out"
			renderPage(c, p.Status, "auth-signout", data)
		default:
			data.Title = "Something went wrong"
			if p.Kind == ginauth.PageForbidden || p.ErrorCode == "forbidden" {
				data.Title = "Forbidden"
			}
			if p.Kind == ginauth.PageAccessDenied {
				data.Title = "Access denied"
				if p.Reason != "" {
					data.Message += " " + p.Reason
				}
			}
			if data.Message == "" {
				data.Message = "The request could not be completed."
			}
			renderPage(c, p.Status, "message", data)
		}
	}
}
