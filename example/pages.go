package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// appName is the example's name, on its pages and on ginauth's.
const appName = "ginauth example"

// appCSS is what the example's pages add to ginauth's stylesheet
// (ginauth.PageStylesheet): the top bar, the development banner, a wider
// card for the app's own pages, and the user's details. Both stylesheets are allowed by hash in the
// pages' Content-Security-Policy.
const appCSS = `:root{--warn-bg:#fff3cd;--warn-fg:#3d3000;--warn-line:#9a7b00;--nav-hover:#e2e6ec}
@media (prefers-color-scheme:dark){:root{--warn-bg:#3a2f0b;--warn-fg:#ffe9a6;--warn-line:#c9a227;--nav-hover:#2c3139}}
body{justify-content:flex-start}
.page{width:100%;max-width:27rem}
.page.wide{max-width:40rem}
.page main{max-width:none}
.top{margin:0 0 1rem}
.banner{margin:0 0 .75rem;padding:.75rem 1rem;border:1px solid var(--warn-line);border-left-width:5px;border-radius:8px;background:var(--warn-bg);color:var(--warn-fg)}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem .5rem;list-style:none;margin:0;padding:0}
nav a{display:inline-block;padding:.375rem .625rem;border-radius:6px;color:var(--link);font-weight:600}
nav a:hover{background:var(--nav-hover)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.375rem 1rem;margin:1rem 0 1.5rem}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
.check{display:flex;align-items:center;gap:.5rem;margin:1rem 0 0}
.check input{width:1.125rem;height:1.125rem;margin:0}
.js{margin-top:.75rem}
.status{margin-top:1rem;color:var(--muted)}`

// pageTemplates are the app's pages. html/template escapes every value. Only
// the home page has scripts, and no inline ones: ginauth's client script and
// the app's own (static/app.js), both same-origin files, so the
// Content-Security-Policy allows script-src 'self' and nothing else. The
// script buttons are hidden until app.js shows them.
var pageTemplates = template.Must(template.New("pages").Funcs(template.FuncMap{"mark": ginauth.ProviderMark}).Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{{.Title}} · ` + appName + `</title>
<style>{{.PageCSS}}</style>
<style>` + appCSS + `</style></head><body>
<div class="page{{if .Wide}} wide{{end}}">
<header class="top">
{{- if .Dev}}
<p class="banner" role="note"><strong>Development provider enabled.</strong> Anyone can sign in as a test user without a password. Never run this in production.</p>{{end}}
<nav aria-label="Main"><ul><li><a href="{{.Base}}/">Home</a></li><li><a href="{{.Base}}/me">Me</a></li><li><a href="{{.Base}}/admin">Admin</a></li><li><a href="{{.Base}}/api/me">{{.Base}}/api/me</a></li></ul></nav>
</header>
<main>
<p class="app">{{.Lock}}<span>` + appName + `</span></p>
{{end}}

{{define "foot"}}</main>
</div>
</body></html>
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
<p class="check"><input type="checkbox" id="revoke" name="revokeToken" value="true"><label for="revoke">Also revoke the provider's tokens</label></p>
<div class="actions"><button class="btn primary" type="submit">Sign out</button>{{if .CancelURL}}<a class="btn" href="{{.CancelURL}}">Cancel</a>{{end}}</div></form>{{end}}

{{define "signin-forms"}}<ul class="providers">{{range .Providers}}
<li><form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{$.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{$.CallbackURL}}">
<button class="btn" type="submit">{{mark .Name}}<span>Sign in with {{.DisplayName}}</span></button></form></li>
{{end}}</ul>{{end}}

{{define "index"}}{{template "head" .}}<h1>Welcome</h1>
{{if .User}}<p class="lead">You are signed in.</p>
{{template "user" .User}}
{{template "signout-form" .}}
<p class="js"><button class="btn" type="button" id="js-signout" hidden>Sign out with the client script (also revokes the tokens)</button></p>
{{else}}<p class="lead">You are signed out. Choose how you want to sign in.</p>
{{template "signin-forms" .}}
{{with .ScriptSignIn}}<p class="js"><button class="btn" type="button" id="js-signin" data-provider="{{.Name}}" hidden>{{mark .Name}}<span>Sign in with {{.DisplayName}} through the client script</span></button></p>{{end}}
{{end}}<p id="js-session" class="status" data-state="loading" hidden></p>
<p id="js-error" class="notice" role="alert" hidden></p>
<script src="{{.ClientScriptURL}}"></script>
<script src="{{.AppScriptURL}}"></script>
{{template "foot"}}{{end}}

{{define "me"}}{{template "head" .}}<h1>Me</h1>
{{template "user" .User}}
<p class="lead">This session ends at {{.ExpiresAt}} unless you use it again.</p>
{{template "foot"}}{{end}}

{{define "admin"}}{{template "head" .}}<h1>Admin</h1>
<p>Welcome, {{.User.Name}}: you are in the <code>admin</code> group.</p>
{{template "foot"}}{{end}}

{{define "auth-signin"}}{{template "head" .}}<h1>Sign in to ` + appName + `</h1>
<p class="lead">Choose how you want to sign in.</p>
{{with .Error}}<div class="notice" role="alert"><strong>{{.ErrorTitle}}</strong><p>{{.Message}}</p><p>{{.NextStep}}</p></div>{{end}}
{{template "signin-forms" .}}
{{template "foot"}}{{end}}

{{define "auth-signout"}}{{template "head" .}}<h1>Sign out of ` + appName + `?</h1>
{{if .User}}<p>You are signed in as {{if .User.Name}}{{.User.Name}}{{else}}{{.User.Subject}}{{end}}.</p>{{end}}
{{template "signout-form" .}}
{{template "foot"}}{{end}}

{{define "message"}}{{template "head" .}}<h1>{{.Title}}</h1>
{{with .Error}}<p>{{.Message}}</p>
{{if .Reason}}<p><strong>Reason:</strong> {{.Reason}}</p>{{end}}
{{if .NextStep}}<p class="next"><strong>What you can do:</strong> {{.NextStep}}</p>{{end}}
{{if .ErrorCode}}<p class="code">Error code: <code>{{.ErrorCode}}</code></p>{{end}}
<div class="actions">{{if eq .Kind 4}}<a class="btn primary" href="{{.HomeURL}}">Go to the home page</a><a class="btn" href="{{.AuthURL}}/signout">Sign in with another account</a>{{else}}<a class="btn primary" href="{{.AuthURL}}/signin">Back to sign-in</a><a class="btn" href="{{.HomeURL}}">Go to the home page</a>{{end}}</div>{{end}}
{{template "foot"}}{{end}}
`))

// providerButton is one sign-in form.
type providerButton struct {
	Name        string // the provider's name (for the client script's signIn and the mark)
	DisplayName string
	Action      string // the provider's sign-in route
}

// pageData is what every page template gets; each page uses a part of it.
type pageData struct {
	Title string
	Dev   bool   // show the development-provider banner
	Wide  bool   // the app's own pages: a wider card
	Base  string // GINAUTH_URL's path ("" or "/app"): the links' prefix

	User      *ginauth.User
	ExpiresAt string

	Providers   []providerButton
	CSRFToken   string
	CallbackURL string
	Action      string // the sign-out form's action
	CancelURL   string // the sign-out page's Cancel link

	// The home page's scripts: ginauth's client and the app's own, and the
	// provider of its script sign-in button.
	ClientScriptURL string
	AppScriptURL    string
	ScriptSignIn    *providerButton

	Error *ginauth.Page // ginauth's error page, or the sign-in page's error
}

// PageCSS is ginauth's stylesheet, the same on every page.
func (pageData) PageCSS() template.CSS { return template.CSS(ginauth.PageStylesheet()) }

// Lock is the mark before the app name: a padlock, decorative.
func (pageData) Lock() template.HTML {
	return `<svg class="mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="5" y="10.5" width="14" height="10.5" rx="2" fill="currentColor"/><path d="M8 10.5V7.5a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" stroke-width="2"/></svg>`
}

// contentSecurityPolicy is the pages' CSP: same-origin script files (no
// inline script, no eval) and same-origin fetch (the client script's calls to
// /auth), the two stylesheets by hash, nothing else; no framing. It sets no
// form-action: Chromium applies it to the redirects that follow a form
// submission too, and a sign-in form's redirect goes to the provider's
// origin.
var contentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src " +
	ginauth.PageStyleHash() + " " + styleHash(appCSS) + "; frame-ancestors 'none'; base-uri 'none'"

// styleHash is the CSP source of an inline stylesheet.
func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

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
// app's layout, so that they carry the same banner. The texts (title, what
// happened, what to do next) and links come from ginauth in the Page.
func authPageRenderer(dev bool, base string) func(c *gin.Context, p ginauth.Page) {
	return func(c *gin.Context, p ginauth.Page) {
		data := pageData{
			Title:       p.Title,
			Dev:         dev,
			Base:        base,
			User:        p.User,
			CSRFToken:   p.CSRFToken,
			CallbackURL: p.CallbackURL,
			Action:      p.FormAction,
		}
		switch p.Kind {
		case ginauth.PageSignIn:
			for _, info := range p.Providers {
				data.Providers = append(data.Providers, providerButton{Name: info.Name, DisplayName: info.DisplayName, Action: info.SignInURL})
			}
			if p.ErrorCode != "" {
				data.Error = &p
			}
			renderPage(c, p.Status, "auth-signin", data)
		case ginauth.PageSignOut:
			data.CancelURL = p.CallbackURL
			renderPage(c, p.Status, "auth-signout", data)
		default:
			data.Error = &p
			renderPage(c, p.Status, "message", data)
		}
	}
}
