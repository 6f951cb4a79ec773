package ginauth

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the client script
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

//go:embed client.js
var clientScript []byte

// clientVersion is a content hash of the client script.
var clientVersion = func() string {
	sum := sha256.Sum256(clientScript)
	return hex.EncodeToString(sum[:8])
}()

// ClientScriptURL returns the URL of the browser client script, with its
// content hash as the v parameter: it may be cached for a year. It is a path
// from the origin's root that includes BaseURL's path prefix
// ("/app/auth/client.js?v=..."). Load it with <script src="...">: the
// script finds the auth routes from its own URL (window.GINAUTH_BASE_PATH,
// when set before it, takes precedence).
func (a *Auth) ClientScriptURL() string {
	return strings.TrimSuffix(a.authPath, "/") + "/client.js?v=" + clientVersion
}

// clientETag is client.js's entity tag, its content hash quoted.
var clientETag = `"` + clientVersion + `"`

// handleClientScript serves client.js: immutable for a year when asked for
// its current version, revalidated daily otherwise. http.ServeContent
// answers If-None-Match (304) and Range against the ETag set here.
func (a *Auth) handleClientScript(c *gin.Context) {
	if c.Query("v") == clientVersion {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "public, max-age=86400")
	}
	c.Header("ETag", clientETag)
	c.Header("Content-Type", "text/javascript; charset=utf-8")
	c.Header("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Writer, c.Request, "client.js", time.Time{}, bytes.NewReader(clientScript))
}
