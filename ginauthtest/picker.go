package ginauthtest

import (
	"net/http"
	"net/url"
)

// pickerPage renders the user picker: one submit button per user, each
// POSTing the original authorization parameters back to /authorize together
// with user=<subject>.
func (p *Provider) pickerPage(w http.ResponseWriter, params url.Values) {
	hidden := copyValues(params)
	hidden.Del("user")
	p.render(w, http.StatusOK, "picker", map[string]any{
		"Action":      p.URL("/authorize"),
		"ClientID":    params.Get("client_id"),
		"RedirectURI": params.Get("redirect_uri"),
		"Hidden":      sortedFields(hidden),
		"Users":       p.Users(),
	})
}
