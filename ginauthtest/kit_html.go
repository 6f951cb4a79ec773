package ginauthtest

import (
	"errors"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// parseFormPost reads the form of a form_post page (this Provider's
// "formpost" template): its action and its hidden fields.
func parseFormPost(page string) (action string, fields url.Values, err error) {
	z := html.NewTokenizer(strings.NewReader(page))
	fields = url.Values{}
	inForm := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			if action == "" {
				return "", nil, errors.New("no form with an action")
			}
			return action, fields, nil
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			switch {
			case t.Data == "form" && !inForm:
				inForm = true
				action = attr(t, "action")
			case t.Data == "input" && inForm && attr(t, "type") == "hidden":
				fields.Add(attr(t, "name"), attr(t, "value"))
			}
		case html.EndTagToken:
			if t := z.Token(); t.Data == "form" && inForm {
				if action == "" {
					return "", nil, errors.New("no form with an action")
				}
				return action, fields, nil
			}
		}
	}
}

// attr returns the value of t's attribute key ("" when absent).
func attr(t html.Token, key string) string {
	for _, a := range t.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// pageMessage is the readable text of an HTML page's main heading and
// paragraphs after it, for error messages: enough to tell what a page says
// without its markup. A body that is not HTML is returned trimmed.
func pageMessage(page string) string {
	if !strings.Contains(page, "<") {
		return strings.TrimSpace(page)
	}
	z := html.NewTokenizer(strings.NewReader(page))
	var parts []string
	depth, seenH1 := 0, false // depth > 0: inside a heading or paragraph
	var cur strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(parts, " ")
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "h1":
				seenH1, depth = true, depth+1
			case "p":
				if seenH1 {
					depth++
				}
			case "script", "style":
				z.Next() // skip the raw text
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if (string(name) == "h1" || string(name) == "p") && depth > 0 {
				depth--
				if depth == 0 {
					if s := strings.Join(strings.Fields(cur.String()), " "); s != "" {
						parts = append(parts, s)
					}
					cur.Reset()
				}
			}
		case html.TextToken:
			if depth > 0 {
				cur.Write(z.Text())
				cur.WriteByte(' ')
			}
		}
	}
}
