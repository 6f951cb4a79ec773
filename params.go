package ginauth

import (
	"encoding/json"
	"errors"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/oautherr"
	"github.com/ginauth/ginauth/providers"
)

// Limits on untrusted request input to the auth routes.
const (
	maxBodyBytes  = 64 << 10
	maxStateLen   = 512
	maxCodeLen    = 8 << 10
	maxIssLen     = 2048
	maxErrorLen   = 256
	maxQueryBytes = 16 << 10
)

var errTooLarge = errors.New("ginauth: request too large")

// postParams are the fields of a form or JSON POST to signin or signout.
type postParams struct {
	CSRFToken   string
	CallbackURL string
	RevokeToken bool
	JSON        bool // the client sent JSON and wants JSON back
}

// readPost reads a form-encoded or JSON body of at most maxBodyBytes.
func readPost(c *gin.Context) (postParams, error) {
	var p postParams
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "application/json" {
		p.JSON = true
		var body struct {
			CSRFToken   string `json:"csrfToken"`
			CallbackURL string `json:"callbackUrl"`
			RevokeToken bool   `json:"revokeToken"`
		}
		dec := json.NewDecoder(c.Request.Body)
		if err := dec.Decode(&body); err != nil {
			return p, bodyError(err)
		}
		p.CSRFToken, p.CallbackURL, p.RevokeToken = body.CSRFToken, body.CallbackURL, body.RevokeToken
		return p, nil
	}
	if err := c.Request.ParseForm(); err != nil {
		return p, bodyError(err)
	}
	f := c.Request.PostForm
	p.CSRFToken, p.CallbackURL = f.Get("csrfToken"), f.Get("callbackUrl")
	switch strings.ToLower(f.Get("revokeToken")) {
	case "1", "true", "on", "yes":
		p.RevokeToken = true
	}
	return p, nil
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return errfmt.Errorf("%w: %w", ErrInvalidCallback, err)
}

// callbackParams are the parameters of an authorization response.
type callbackParams struct {
	code, state, iss, errCode string
	errDescription            string // for logs only: capped and printable (oautherr.Description)
	issPresent                bool
	extra                     url.Values // other form_post parameters (providers.AuthResponse.Extra)
}

// maxExtraParams bounds callbackParams.extra with providers.MaxExtraBytes.
const maxExtraParams = 16

// extraParams keeps the parameters of a form_post response that are not the
// protocol's, within the bounds: the rest is dropped, never fatal.
func extraParams(vals url.Values) url.Values {
	var out url.Values
	size := 0
	for _, k := range slices.Sorted(maps.Keys(vals)) { // deterministic under the bound
		vs := vals[k]
		switch k {
		case "code", "state", "iss", "error", "error_description", "error_uri":
			continue
		}
		if len(vs) != 1 || len(out) >= maxExtraParams || size+len(k)+len(vs[0]) > providers.MaxExtraBytes {
			continue
		}
		if out == nil {
			out = url.Values{}
		}
		size += len(k) + len(vs[0])
		out.Set(k, vs[0])
	}
	return out
}

// readCallback reads the authorization response from the query (GET) or the
// form body (POST, response_mode=form_post). Each parameter may appear once.
func readCallback(c *gin.Context) (callbackParams, error) {
	var p callbackParams
	var vals url.Values
	if c.Request.Method == http.MethodPost {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
		if err := c.Request.ParseForm(); err != nil {
			return p, bodyError(err)
		}
		vals = c.Request.PostForm
		p.extra = extraParams(vals)
	} else {
		if len(c.Request.URL.RawQuery) > maxQueryBytes {
			return p, errTooLarge
		}
		var err error
		if vals, err = url.ParseQuery(c.Request.URL.RawQuery); err != nil {
			return p, errfmt.Errorf("%w: %w", ErrInvalidCallback, err)
		}
	}
	get := func(name string, limit int) (string, bool, error) {
		vs, ok := vals[name]
		switch {
		case !ok:
			return "", false, nil
		case len(vs) != 1:
			return "", true, errfmt.Errorf("%w: %s appears %d times", ErrInvalidCallback, name, len(vs))
		case len(vs[0]) > limit:
			return "", true, errTooLarge
		}
		return vs[0], true, nil
	}
	var err error
	if p.state, _, err = get("state", maxStateLen); err != nil {
		return p, err
	}
	if p.code, _, err = get("code", maxCodeLen); err != nil {
		return p, err
	}
	if p.iss, p.issPresent, err = get("iss", maxIssLen); err != nil {
		return p, err
	}
	if p.errCode, _, err = get("error", maxErrorLen); err != nil {
		return p, err
	}
	if p.errCode != "" {
		// The description only adds to the log: a duplicated or long one
		// is cut, never fatal.
		p.errDescription = oautherr.Description(vals.Get("error_description"))
	}
	return p, nil
}
