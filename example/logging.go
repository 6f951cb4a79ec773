package main

import (
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

// newLogger returns the app's structured logger, writing text lines to w.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// requestLogger logs one line per request: method, path, status and
// latency. It logs the path WITHOUT the query string, because the callback's
// query carries the authorization code and state, and never logs headers
// (cookies) or bodies.
func requestLogger(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "request",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Duration("latency", time.Since(start)),
		)
	}
}

// recovery is gin's recovery middleware without gin's request dump: in debug
// mode that dump holds the request line (with a callback's code and state)
// and the Cookie header. The panic is logged with the path and stack only.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		log.Error("panic recovered",
			"method", c.Request.Method,
			"path", c.Request.URL.Path,
			"panic", rec,
			"stack", string(debug.Stack()),
		)
		c.AbortWithStatus(http.StatusInternalServerError)
	})
}
