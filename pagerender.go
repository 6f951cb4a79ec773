package ginauth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
)

// pageCSS is the built-in pages' stylesheet: a centered card, light and
// dark color schemes, fluid down to 320 px wide, visible focus. Every
// color pair of text meets WCAG AA contrast (4.5:1) in both schemes.
const pageCSS = `:root{color-scheme:light dark;--bg:#eef0f3;--card:#fff;--fg:#1f2328;--muted:#4f5763;--border:#c4c9d1;` +
	`--btn:#fff;--btn-hover:#f1f3f6;--accent:#1d4ed8;--accent-fg:#fff;--link:#1a47c2;--focus:#1d4ed8;--alert-bg:#fdf1f0;--alert-line:#b42318;--note-bg:#f3f5f8}
@media (prefers-color-scheme:dark){:root{--bg:#0e1014;--card:#1a1d23;--fg:#e8eaed;--muted:#b3bac4;--border:#4b525d;` +
	`--btn:#23272e;--btn-hover:#2c3139;--accent:#8ab4ff;--accent-fg:#0e1014;--link:#9cc0ff;--focus:#9cc0ff;--alert-bg:#2b1a1c;--alert-line:#f28b82;--note-bg:#21252c}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;padding:1.5rem 1rem;` +
	`background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{width:100%;max-width:27rem;background:var(--card);border:1px solid var(--border);border-radius:12px;padding:2rem 1.75rem;box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06)}
.app{display:flex;align-items:center;gap:.5rem;margin:0 0 1.25rem;color:var(--muted);font-weight:600;overflow-wrap:anywhere}
h1{margin:0 0 .5rem;font-size:1.5rem;line-height:1.25;overflow-wrap:anywhere}
p{margin:0 0 1rem}
.lead{color:var(--muted)}
.mark{width:1.25rem;height:1.25rem;flex:none}
.providers{list-style:none;margin:1.5rem 0 0;padding:0}
.providers li+li{margin-top:.75rem}
form{margin:0}
.btn{display:flex;align-items:center;justify-content:center;gap:.75rem;width:100%;min-height:2.75rem;padding:.625rem 1rem;` +
	`border:1px solid var(--border);border-radius:8px;background:var(--btn);color:var(--fg);font:inherit;font-weight:600;line-height:1.3;text-align:center;text-decoration:none;cursor:pointer}
.btn:hover{background:var(--btn-hover)}
.btn.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg)}
.btn.primary:hover{filter:brightness(1.08)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.notice{margin:1rem 0;padding:.75rem 1rem;border:1px solid var(--alert-line);border-left-width:5px;border-radius:8px;background:var(--alert-bg)}
.notice p{margin:.25rem 0 0}
.next{padding:.75rem 1rem;border-radius:8px;background:var(--note-bg)}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}
.actions>*{flex:1 1 auto;width:auto}
.code{font-size:.875rem;color:var(--muted)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
a{color:var(--link)}
@media (max-width:30rem){body{justify-content:flex-start;padding:1rem .75rem}main{padding:1.5rem 1.25rem}h1{font-size:1.375rem}}
@media (forced-colors:active){.btn{border:1px solid ButtonText}.notice{border:1px solid CanvasText}}`

// PageStylesheet returns the CSS of the built-in pages, for an app whose
// own pages (or Config.RenderPage) should look the same. Its classes:
// "app" (the app-name line), "lead", "mark" (an SVG from ProviderMark),
// "providers" (the list of sign-in forms), "btn" and "btn primary",
// "notice" (an error), "next" (what to do next), "actions" (a row of
// buttons and links) and "code". Put it in a <style> element, and allow
// it with PageStyleHash in the page's Content-Security-Policy.
func PageStylesheet() string { return pageCSS }

// PageStyleHash returns the CSP source that allows a <style> element
// holding exactly PageStylesheet(): 'sha256-...'.
func PageStyleHash() string { return cspHash(pageCSS) }

// cspHash is the CSP hash source of an inline element's text.
func cspHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// The pages' Content-Security-Policy. The built-in pages allow their one
// stylesheet by hash and nothing else: no script, no image, no inline
// style attribute. A page from Config.RenderPage may use inline styles.
var (
	builtinPageCSP = "default-src 'none'; style-src " + cspHash(pageCSS) + "; frame-ancestors 'none'; base-uri 'none'"
	customPageCSP  = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
)

// initPages checks the app name and texts, and picks the renderer.
func (a *Auth) initPages(cfg Config, host string) error {
	a.appName = cfg.AppName
	if a.appName == "" {
		a.appName = host
	} else if err := checkPageText(a.appName, MaxAppNameLen); err != nil {
		return fmt.Errorf("%w: AppName: %w", ErrInvalidPageText, err)
	}
	texts, err := newPageTexts(cfg.Texts)
	if err != nil {
		return err
	}
	a.texts = texts
	a.render, a.pageCSP = cfg.RenderPage, customPageCSP
	if a.render == nil {
		a.render, a.pageCSP = a.renderBuiltinPage, builtinPageCSP
	}
	return nil
}

// pageView is what the built-in template gets: every text resolved.
type pageView struct {
	Page
	Dir      string
	DocTitle string
	Heading  string
	Lead     string
	Lock     template.HTML

	Notice  bool // PageSignIn with an error code
	Buttons []buttonView
	SignOut *signOutView

	NextLabel, ReasonLabel, CodeLabel string
	Links                             []linkView
}

type buttonView struct {
	Label string
	Mark  template.HTML
	Href  string
}

type signOutView struct {
	User, Intro, Button, Cancel string
}

type linkView struct {
	Href, Label string
	Primary     bool
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}" dir="{{.Dir}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>{{.DocTitle}}</title>
<style>` + pageCSS + `</style></head><body>
<main>
<p class="app">{{.Lock}}<span>{{.AppName}}</span></p>
<h1>{{.Heading}}</h1>
{{- if .Lead}}
<p class="lead">{{.Lead}}</p>{{end}}
{{- if .Notice}}
<div class="notice" role="alert"><strong>{{.ErrorTitle}}</strong><p>{{.Message}}</p><p>{{.NextStep}}</p></div>{{end}}
{{- with .Buttons}}
<ul class="providers">
{{- range .}}
<li><form method="post" action="{{.Href}}"><input type="hidden" name="csrfToken" value="{{$.CSRFToken}}"><input type="hidden" name="callbackUrl" value="{{$.CallbackURL}}"><button class="btn" type="submit">{{.Mark}}<span>{{.Label}}</span></button></form></li>
{{- end}}
</ul>{{end}}
{{- with .SignOut}}
{{- if .User}}
<p>{{.User}}</p>{{end}}
<p class="lead">{{.Intro}}</p>
<form method="post" action="{{$.FormAction}}"><input type="hidden" name="csrfToken" value="{{$.CSRFToken}}"><input type="hidden" name="callbackUrl" value="{{$.CallbackURL}}"><div class="actions"><button class="btn primary" type="submit">{{.Button}}</button><a class="btn" href="{{$.CallbackURL}}">{{.Cancel}}</a></div></form>
{{- end}}
{{- if .Links}}
{{- if .Message}}
<p>{{.Message}}</p>{{end}}
{{- if .Reason}}
<p><strong>{{.ReasonLabel}}</strong> {{.Reason}}</p>{{end}}
{{- if .NextStep}}
<p class="next"><strong>{{.NextLabel}}</strong> {{.NextStep}}</p>{{end}}
{{- if .ErrorCode}}
<p class="code">{{.CodeLabel}} <code>{{.ErrorCode}}</code></p>{{end}}
<div class="actions">
{{- range .Links}}<a class="btn{{if .Primary}} primary{{end}}" href="{{.Href}}">{{.Label}}</a>{{end}}</div>
{{- end}}
</main>
</body></html>
`))

// view resolves every text of p for the built-in template.
func (a *Auth) view(p Page) pageView {
	t := a.texts
	v := pageView{Page: p, Dir: t["dir"], Lock: lockMark, Heading: p.Title}
	switch p.Kind {
	case PageSignIn:
		v.Heading = t.with("signin.heading", "app", p.AppName)
		v.Lead = t["signin.intro"]
		v.Notice = p.ErrorCode != ""
		for _, info := range p.Providers {
			v.Buttons = append(v.Buttons, buttonView{
				Label: t.with("signin.button", "provider", info.DisplayName),
				Mark:  ProviderMark(info.Name),
				Href:  info.SignInURL,
			})
		}
	case PageSignOut:
		v.Heading = t.with("signout.heading", "app", p.AppName)
		s := &signOutView{Intro: t.with("signout.intro", "app", p.AppName), Button: t["signout.button"], Cancel: t["signout.cancel"]}
		if u := p.User; u != nil {
			name := u.Name
			if name == "" {
				name = u.Email
			}
			if name == "" {
				name = u.Subject
			}
			s.User = t.with("signout.user", "user", name)
		}
		v.SignOut = s
	default:
		v.NextLabel, v.ReasonLabel, v.CodeLabel = t["next.label"], t["reason.label"], t["code.label"]
		signIn := linkView{Href: p.AuthURL + "/signin", Label: t["link.signin"]}
		home := linkView{Href: p.HomeURL, Label: t["link.home"]}
		switch p.Kind {
		case PageForbidden:
			home.Primary = true
			v.Links = []linkView{home, {Href: p.AuthURL + "/signout", Label: t["link.switch"]}}
		default:
			signIn.Primary = true
			v.Links = []linkView{signIn, home}
		}
	}
	v.DocTitle = p.Title + " · " + p.AppName
	return v
}

// renderBuiltinPage writes p with the built-in template. The page is
// rendered into a buffer first, so a template error never sends half a
// page.
func (a *Auth) renderBuiltinPage(c *gin.Context, p Page) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, a.view(p)); err != nil {
		_ = c.Error(err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(p.Status, "text/html; charset=utf-8", buf.Bytes())
}
