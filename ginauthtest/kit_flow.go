package ginauthtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxKitBody bounds what the kit reads of any response.
const maxKitBody = 1 << 20

// kitResponse is a response as the kit reads it.
type kitResponse struct {
	status   int
	location string
	header   http.Header
	body     string
}

// do sends req with the kit's client and reads the response.
func (k *kit) do(req *http.Request) (kitResponse, error) {
	resp, err := k.client.Do(req)
	if err != nil {
		return kitResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKitBody))
	if err != nil {
		return kitResponse{}, fmt.Errorf("%s %s: reading the response: %w", req.Method, req.URL.Redacted(), err)
	}
	return kitResponse{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: string(body)}, nil
}

func (k *kit) get(rawURL string) (kitResponse, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return kitResponse{}, err
	}
	return k.do(req)
}

// postForm posts form to rawURL as a browser submits a form of origin.
func (k *kit) postForm(rawURL, origin string, form url.Values) (kitResponse, error) {
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return kitResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if origin == k.origin {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	return k.do(req)
}

// isRedirect reports whether status sends the browser elsewhere with a GET
// (or keeps the method: 307, 308, which the flow never uses).
func isRedirect(status int) bool {
	return status == http.StatusFound || status == http.StatusSeeOther
}

// withoutQuery is rawURL without its query: enough to name it in a message
// without printing state, nonce or code.
func withoutQuery(rawURL string) string {
	before, _, _ := strings.Cut(rawURL, "?")
	return before
}

// signInAs drives one sign-in flow for subject.
func (k *kit) signInAs(subject, callbackURL string) error {
	// 1. The CSRF token, as the app's sign-in page would embed it.
	r, err := k.get(k.authURL + "/csrf")
	if err != nil {
		return err
	}
	var csrf struct {
		Token string `json:"csrfToken"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &csrf) != nil || csrf.Token == "" {
		return fmt.Errorf("GET %s/csrf answered %d %s, not a CSRF token", k.authURL, r.status, excerpt(r.body))
	}

	// 2. The sign-in form: the app must send the browser to this Provider.
	r, err = k.postForm(k.signIn, k.origin, url.Values{"csrfToken": {csrf.Token}, "callbackUrl": {callbackURL}})
	if err != nil {
		return err
	}
	unreachable := fmt.Sprintf("is its provider built with Issuer op.Issuer() (%s), and can the app reach it? The provider fetches discovery from the issuer: start this Provider with Start, or mount it in the app and serve the app; the app's log says more", k.p.issuer)
	if !isRedirect(r.status) || r.location == "" {
		switch r.status {
		case http.StatusServiceUnavailable:
			return fmt.Errorf("POST %s answered 503 %s: the app could not start the sign-in: %s", k.signIn, excerpt(pageMessage(r.body)), unreachable)
		case http.StatusForbidden:
			return fmt.Errorf("POST %s answered 403 %s: the app refused the sign-in form, which carried the token of GET %s/csrf and Origin %s: a middleware of the app, or a CSRF check that expects another origin?", k.signIn, excerpt(pageMessage(r.body)), k.authURL, k.origin)
		}
		return fmt.Errorf("POST %s answered %d %s: the sign-in did not start", k.signIn, r.status, excerpt(pageMessage(r.body)))
	}
	authorize := k.p.URL("/authorize")
	if !strings.HasPrefix(r.location, authorize+"?") {
		if code, ok := k.errorPageCode(r.location); ok {
			hint := unreachable
			if code != "provider_unavailable" && code != "sign_in_unavailable" {
				hint = "error " + code
			}
			return fmt.Errorf("POST %s: the app could not start the sign-in and sent the browser to %s: %s", k.signIn, r.location, hint)
		}
		return fmt.Errorf("provider %q of the app sends the browser to %s, not to this Provider's %s: build it with Issuer op.Issuer(), ClientID op.ClientID() and ClientSecret op.ClientSecret()", k.provider, withoutQuery(r.location), authorize)
	}

	// 3. The Provider's authorize endpoint, choosing the user as the
	// picker page would (user) or as a login hint (no picker).
	authURL, err := url.Parse(r.location)
	if err != nil {
		return fmt.Errorf("the app's authorization URL: %w", err)
	}
	q := authURL.Query()
	q.Set("login_hint", subject)
	q.Set("user", subject)
	authURL.RawQuery = q.Encode()
	r, err = k.get(authURL.String())
	if err != nil {
		return err
	}
	var callback kitResponse
	switch {
	case isRedirect(r.status) && r.location != "":
		if back, err := url.Parse(r.location); err == nil && back.Query().Has("error") {
			return fmt.Errorf("this Provider answered the authorization request with error=%s (%s)", back.Query().Get("error"), back.Query().Get("error_description"))
		}
		callback, err = k.get(r.location)
	case r.status == http.StatusOK && strings.Contains(r.body, "<form"):
		// response_mode=form_post: submit the page's form, as its script does.
		action, fields, ferr := parseFormPost(r.body)
		if ferr != nil {
			return fmt.Errorf("this Provider's form_post page: %w", ferr)
		}
		if fields.Has("error") {
			return fmt.Errorf("this Provider answered the authorization request with error=%s (%s)", fields.Get("error"), fields.Get("error_description"))
		}
		callback, err = k.postForm(action, k.opOrigin(), fields)
	default:
		return fmt.Errorf("this Provider refused the authorization request with %d: %q: check the client ID and that the app's redirect URI (%s/callback/%s) is registered in Options.RedirectURIs", r.status, pageMessage(r.body), k.authURL, k.provider)
	}
	if err != nil {
		return err
	}

	// 4. The app's callback: it must create the session and redirect (to
	// the callbackUrl; with a path prefix the app may resolve it, so only
	// an error code in the target counts as a failure here).
	if !isRedirect(callback.status) {
		if callback.status == http.StatusForbidden {
			return fmt.Errorf("the app refused the sign-in at its callback (403 %q): an allow-list or a sign-in hook does not let %q in", pageMessage(callback.body), subject)
		}
		return fmt.Errorf("the app's callback answered %d %s, not a redirect", callback.status, excerpt(pageMessage(callback.body)))
	}
	if code, ok := k.errorPageCode(callback.location); ok {
		return fmt.Errorf("the app's callback refused the sign-in and redirected to %s: %s; the app's log says more", callback.location, callbackHint(code))
	}

	// 5. The session must be there, and be subject's.
	r, err = k.get(k.authURL + "/session")
	if err != nil {
		return err
	}
	var session struct {
		User struct {
			Subject string `json:"sub"`
		} `json:"user"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &session) != nil {
		return fmt.Errorf("GET %s/session answered %d %s after the callback redirected to %s", k.authURL, r.status, excerpt(r.body), callback.location)
	}
	if session.User.Subject != subject {
		return fmt.Errorf("after the callback redirected to %s, GET %s/session names subject %q, not %q: no session was created, or its cookie was not kept", callback.location, k.authURL, session.User.Subject, subject)
	}
	return nil
}

// errorPageCode reports whether location is the app's sign-in page with an
// error code (where ginauth sends a failed sign-in), and the code.
func (k *kit) errorPageCode(location string) (string, bool) {
	base, err1 := url.Parse(k.authURL + "/signin")
	u, err2 := url.Parse(location)
	if err1 != nil || err2 != nil {
		return "", false
	}
	u = base.ResolveReference(u)
	if origin(u) != origin(base) || u.Path != base.Path || !u.Query().Has("error") {
		return "", false
	}
	return u.Query().Get("error"), true
}

// opOrigin is the origin of the Provider's issuer.
func (k *kit) opOrigin() string {
	u, err := url.Parse(k.p.issuer)
	if err != nil {
		return ""
	}
	return origin(u)
}

// callbackHint says what to check for an error code of the app's callback
// (ginauth's error page codes).
func callbackHint(code string) string {
	switch code {
	case "token_exchange":
		return "this Provider refused the app's token request: is the provider's ClientSecret op.ClientSecret()?"
	case "invalid_id_token", "issuer_mismatch":
		return "the app refused this Provider's answer: is the provider's ClientID op.ClientID(), its Issuer op.Issuer(), its clock (Now) the Provider's, and is a Behavior set?"
	case "provider_unavailable":
		return "the app could not reach this Provider's token or keys endpoint"
	case "not_allowed":
		return "an allow-list or a sign-in hook of the app refused the user"
	default:
		return "error " + code
	}
}
