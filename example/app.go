package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/revsync"
	"github.com/ginauth/ginauth/store"
)

// authPath is where the auth routes are mounted, below GINAUTH_URL's path
// (cfg.BasePath): a provider's redirect URI is
// <GINAUTH_URL>/auth/callback/<name>.
const authPath = "/auth"

// newApp builds the app's handler from cfg, keeping sessions in st (nil:
// ginauth's default cookie store; see openRedis). It does no network I/O:
// the providers fetch their discovery documents on first use, so it can run
// before the server listens (the development provider is served by this
// very handler).
func newApp(cfg config, log *slog.Logger, st store.Store) (*app, error) {
	var (
		list []providers.Provider
		op   *ginauthtest.Provider
	)
	if cfg.Dev {
		var (
			dev *providers.OIDCProvider
			err error
		)
		if op, dev, err = devProvider(cfg.BaseURL, cfg.DevTokenTTL); err != nil {
			return nil, err
		}
		list = append(list, dev)
	}
	if cfg.OIDC != nil {
		p, err := providers.OIDC(*cfg.OIDC)
		if err != nil {
			return nil, err
		}
		list = append(list, p)
	}
	if cfg.Google != nil {
		p, err := providers.Google(*cfg.Google)
		if err != nil {
			return nil, err
		}
		list = append(list, p)
	}
	if cfg.Microsoft != nil {
		p, err := providers.Microsoft(*cfg.Microsoft)
		if err != nil {
			return nil, fmt.Errorf("MICROSOFT_*: %w", err)
		}
		list = append(list, p)
	}
	if cfg.GitHub != nil {
		p, err := providers.GitHub(*cfg.GitHub)
		if err != nil {
			return nil, fmt.Errorf("GITHUB_*: %w", err)
		}
		list = append(list, p)
	}

	var revs *revsync.Sync
	if cfg.RevocationRedisURL != "" {
		// No I/O here: the client connects when run starts the sync.
		var err error
		if revs, err = revsync.NewURL(cfg.RevocationRedisURL, revsync.Options{Logger: log}); err != nil {
			return nil, fmt.Errorf("GINAUTH_REVOCATION_REDIS_URL: %s", hideUserinfo(cfg.RevocationRedisURL, err.Error()))
		}
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:            cfg.BaseURL,
		Secrets:            [][]byte{cfg.Secret},
		Providers:          list,
		SessionMaxAge:      cfg.SessionMaxAge,
		SessionIdleTimeout: cfg.SessionIdle,
		Store:              st,
		Logger:             log,
		AppName:            appName,
		RenderPage:         authPageRenderer(cfg.Dev, cfg.BasePath),
		// Unset: anyone the provider signs in; see parseConfig.
		AllowedEmailDomains: cfg.AllowedDomains,
		AllowedEmails:       cfg.AllowedEmails,
		Events:              auditEvents(log), // see events.go
		// Sign-outs shared between instances (cookie store only); nil
		// when GINAUTH_REVOCATION_REDIS_URL is unset.
		Revocations:         revocationSync(revs),
		RevocationsFailOpen: cfg.RevocationsFailOpen,
	})
	if err != nil {
		if revs != nil {
			_ = revs.Close()
		}
		return nil, err
	}

	h := &handlers{auth: auth, dev: cfg.Dev, base: cfg.BasePath}
	for _, p := range list {
		h.buttons = append(h.buttons, providerButton{Name: p.Name(), DisplayName: p.DisplayName(), Action: cfg.BasePath + authPath + "/signin/" + p.Name()})
	}

	e := gin.New()
	e.Use(requestLogger(log), recovery(log))
	// Every route is served under GINAUTH_URL's path ("" or "/app").
	r := e.Group(cfg.BasePath)
	if op != nil {
		mountDevProvider(r, op)
	}
	auth.Register(r.Group(authPath))

	r.GET("/", auth.LoadSession(), h.index)
	r.GET("/healthz", healthz)
	r.GET(appScriptPath, serveAppScript)

	browser := r.Group("", auth.RequireAuth(ginauth.Browser))
	browser.GET("/me", h.me)
	browser.GET("/admin", ginauth.RequireClaim("groups", "admin"), h.admin)

	var apiOpts []ginauth.RequireOption
	if cfg.APIAudience != "" {
		apiOpts = append(apiOpts, ginauth.AcceptBearer(cfg.APIAudience))
	}
	api := r.Group("/api", auth.RequireAuth(ginauth.API, apiOpts...))
	api.GET("/me", apiMe)
	api.GET("/token", apiToken(auth.AccessTokenWithExpiry))

	var check []string // every provider but the development one, served by this very app
	for _, p := range list {
		if p.Name() != devName {
			check = append(check, p.Name())
		}
	}
	return &app{Handler: e, auth: auth, check: check, revs: revs, op: op}, nil
}

// app is the example's handler and what the start-up check needs.
type app struct {
	http.Handler
	auth  *ginauth.Auth
	check []string              // the providers checkProviders checks
	revs  *revsync.Sync         // GINAUTH_REVOCATION_REDIS_URL; nil: unset
	op    *ginauthtest.Provider // the development provider, or nil (debug.go)
}

// checkTimeout bounds the start-up check of the providers.
const checkTimeout = 20 * time.Second

// checkProviders runs ginauth's start-up check of the configured providers
// (discovery, issuer, client credentials) and logs what to fix at ERROR.
// The app keeps serving either way: a provider down at start may come back,
// and the other providers still work.
func (a *app) checkProviders(ctx context.Context, log *slog.Logger) {
	if len(a.check) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := a.auth.CheckProviders(ctx, a.check...); err != nil {
		log.Error("provider check failed: sign-in with these providers fails until this is fixed", "err", err)
		return
	}
	log.Info("providers checked", "providers", a.check)
}

// describeProviders is the list of provider names for the start-up log.
func describeProviders(cfg config) []string {
	var names []string
	if cfg.Dev {
		names = append(names, devName)
	}
	if cfg.OIDC != nil {
		names = append(names, cfg.OIDC.Name)
	}
	if cfg.Google != nil {
		names = append(names, "google")
	}
	if cfg.Microsoft != nil {
		names = append(names, "microsoft")
	}
	if cfg.GitHub != nil {
		names = append(names, "github")
	}
	return names
}
