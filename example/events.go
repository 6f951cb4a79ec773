package main

import (
	"context"
	"log/slog"

	"github.com/ginauth/ginauth"
)

// auditEvents logs every ginauth event, one line each: an audit trail of
// sign-ins, refused sign-ins, sign-outs and token refreshes. Events carry
// identifiers and fixed codes only, never tokens, codes or secrets, and no
// profile data.
func auditEvents(log *slog.Logger) ginauth.Events {
	return ginauth.Events{
		SignedIn: func(ctx context.Context, e ginauth.SignedInEvent) {
			log.InfoContext(ctx, "audit: signed in", "event", e)
		},
		SignInRefused: func(ctx context.Context, e ginauth.SignInRefusedEvent) {
			log.WarnContext(ctx, "audit: sign-in refused", "event", e)
		},
		SignedOut: func(ctx context.Context, e ginauth.SignedOutEvent) {
			log.InfoContext(ctx, "audit: signed out", "event", e)
		},
		TokenRefreshed: func(ctx context.Context, e ginauth.TokenRefreshedEvent) {
			log.InfoContext(ctx, "audit: token refreshed", "event", e)
		},
		RefreshFailed: func(ctx context.Context, e ginauth.RefreshFailedEvent) {
			log.WarnContext(ctx, "audit: refresh failed", "event", e)
		},
	}
}
