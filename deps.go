//go:build tools

package ginauth

import (
	_ "github.com/gin-contrib/sessions"
	_ "github.com/gin-gonic/gin"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/oauth2-proxy/mockoidc"
	_ "go.uber.org/goleak"
	_ "golang.org/x/oauth2"
)
