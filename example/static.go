package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the home page's script
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// appScript is the home page's script: the buttons that use ginauth's
// browser client, and the session as the client sees it. It is a file, not
// inline, so that the pages' CSP can say script-src 'self'.
//
//go:embed static/app.js
var appScript []byte

// appScriptPath serves appScript; appScriptURL adds its content hash, so
// that the page always loads the current version and browsers may cache it
// for a year.
const appScriptPath = "/static/app.js"

var (
	appScriptVersion = func() string {
		sum := sha256.Sum256(appScript)
		return hex.EncodeToString(sum[:8])
	}()
	appScriptURL  = appScriptPath + "?v=" + appScriptVersion
	appScriptETag = `"` + appScriptVersion + `"`
)

// serveAppScript serves appScript: immutable when asked for its current
// version, revalidated at every use otherwise. http.ServeContent answers
// If-None-Match (304) and Range against the ETag set here.
func serveAppScript(c *gin.Context) {
	if c.Query("v") == appScriptVersion {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	c.Header("ETag", appScriptETag)
	c.Header("Content-Type", "text/javascript; charset=utf-8")
	c.Header("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Writer, c.Request, "app.js", time.Time{}, bytes.NewReader(appScript))
}
