package ginauthtest

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"sort"
)

// pageTemplates holds the HTML the provider renders. It is parsed per
// Provider (no package state).
const pageTemplates = `
{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.}} · ginauth development provider</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.75rem 1rem;border-radius:.4rem}
button{display:block;width:100%;text-align:left;margin:.5rem 0;padding:.75rem 1rem;font-size:1rem;border:1px solid #999;border-radius:.4rem;background:#f7f7f7;cursor:pointer}
button:hover{background:#e9e9e9}
small{color:#555}
</style>
</head>
{{end}}

{{define "banner"}}<p class="banner"><strong>Development provider.</strong> This is the ginauth test / development OpenID Provider. It signs in fake users without passwords and must never be used in production.</p>{{end}}

{{define "picker"}}{{template "head" "Choose a user"}}
<body>
{{template "banner"}}
<h1>Sign in as…</h1>
<p>Client <code>{{.ClientID}}</code> asks to sign you in and will receive you back at <code>{{.RedirectURI}}</code>.</p>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{range .Users}}<button type="submit" name="user" value="{{.Subject}}"><strong>{{if .Name}}{{.Name}}{{else}}{{.Subject}}{{end}}</strong> <small>{{.Subject}}{{if .Email}} · {{.Email}}{{end}}{{if .Groups}} · groups: {{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{end}}{{end}}</small></button>
{{end}}</form>
</body>
</html>
{{end}}

{{define "formpost"}}{{template "head" "Signing in"}}
<body onload="document.forms[0].submit()">
{{template "banner"}}
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>JavaScript is off; press the button to continue.</p></noscript>
<button type="submit">Continue to the application</button>
</form>
</body>
</html>
{{end}}

{{define "message"}}{{template "head" .Title}}
<body>
{{template "banner"}}
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</body>
</html>
{{end}}
`

func parsePages() (*template.Template, error) {
	return template.New("pages").Parse(pageTemplates)
}

type field struct{ Name, Value string }

// sortedFields flattens values into name/value pairs in a stable order.
func sortedFields(values url.Values) []field {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []field
	for _, k := range keys {
		for _, v := range values[k] {
			out = append(out, field{k, v})
		}
	}
	return out
}

// render executes a page into a buffer first so that a template error never
// produces a half-written response.
func (p *Provider) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "cannot render page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows an error to the user instead of redirecting.
func (p *Provider) errorPage(w http.ResponseWriter, status int, msg string) {
	p.render(w, status, "message", map[string]string{"Title": "Invalid request", "Message": msg})
}

// formPostPage answers with an auto-submitting form (OAuth 2.0 Form Post
// Response Mode).
func (p *Provider) formPostPage(w http.ResponseWriter, action string, values url.Values) {
	p.render(w, http.StatusOK, "formpost", map[string]any{
		"Action": action,
		"Fields": sortedFields(values),
	})
}
