package providers

import (
	"context"
	"errors"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/oidcjwt"
)

// Errors of the token lifecycle.
var (
	// ErrInvalidGrant: the provider refused the refresh token (revoked,
	// expired, reused). The session it belongs to must end.
	ErrInvalidGrant = errors.New("ginauth: refresh token refused")
	// ErrIdentityChanged: an ID token in a refresh response names another
	// issuer or subject than the session's. The session must end.
	ErrIdentityChanged = errors.New("ginauth: refreshed ID token names another user")
	// ErrNoRefreshToken: the session has no refresh token to refresh with.
	ErrNoRefreshToken = errors.New("ginauth: no refresh token")
	// ErrInvalidLogoutToken: a back-channel logout token failed validation.
	ErrInvalidLogoutToken = errors.New("ginauth: invalid logout token")
)

// Refresher is implemented by providers that can refresh access tokens.
type Refresher interface {
	// Refresh redeems t's refresh token. The result keeps t's refresh token
	// when the provider did not rotate it. An ID token in the response is
	// validated and must name issuer and subject.
	Refresh(ctx context.Context, t Token, issuer, subject string) (Token, error)
}

// EndSessioner is implemented by providers that end their own session on
// sign-out (OpenID Connect RP-Initiated Logout 1.0).
type EndSessioner interface {
	// EndSessionURL returns where to send the browser, or "" when the
	// provider is not set to end its session or advertises no endpoint.
	EndSessionURL(ctx context.Context, idTokenHint, postLogoutRedirectURI, state string) (string, error)
}

// LogoutTokenVerifier is implemented by providers that accept
// OpenID Connect Back-Channel Logout 1.0 logout tokens.
type LogoutTokenVerifier interface {
	// VerifyLogoutToken validates a logout token completely: signature and
	// algorithm, iss, aud, iat, exp, jti, the events claim, no nonce, sub or
	// sid, and typ (logout+jwt when present). It does not check jti replay: the caller keeps that state.
	VerifyLogoutToken(ctx context.Context, raw string) (*LogoutClaims, error)
}

// LogoutClaims are the validated claims of a logout token.
type LogoutClaims = oidcjwt.LogoutClaims

// Refresh implements Refresher.
func (p *OIDCProvider) Refresh(ctx context.Context, t Token, issuer, subject string) (Token, error) {
	if t.RefreshToken == "" {
		return Token{}, ErrNoRefreshToken
	}
	m, err := p.meta.get(ctx)
	if err != nil {
		return Token{}, err
	}
	// The expiry is reckoned on the configured clock, from when the request
	// was sent (x/oauth2 would use time.Now at the answer).
	sent := p.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	src := p.oauth2Config(m, "").TokenSource(ctx, &oauth2.Token{RefreshToken: t.RefreshToken})
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return Token{}, ErrInvalidGrant
		}
		return Token{}, exchangeError(err)
	}
	out := Token{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.Type(),
		RefreshToken: tok.RefreshToken,
		IDToken:      t.IDToken,
		Expiry:       tok.Expiry,
	}
	if tok.ExpiresIn > 0 {
		out.Expiry = sent.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if out.RefreshToken == "" {
		out.RefreshToken = t.RefreshToken
	}
	if rawID, _ := tok.Extra("id_token").(string); rawID != "" {
		claims, err := oidcjwt.VerifyIDToken(ctx, m.keys, rawID, m.algs, oidcjwt.IDTokenExpectations{
			Issuer:      p.cfg.Issuer,
			IssuerCheck: p.issuers.tokenCheck(),
			ClientID:    p.cfg.ClientID,
			Now:         p.cfg.Now(),
			Skew:        p.cfg.ClockSkew,
		})
		if err != nil {
			return Token{}, p.tokenError(err)
		}
		// OpenID Connect Core §12.2: same iss and sub as the original.
		if claims.Issuer != issuer || claims.Subject != subject {
			return Token{}, ErrIdentityChanged
		}
		out.IDToken = rawID
	}
	return out, nil
}

// EndSessionURL implements EndSessioner. It returns "" unless
// OIDCConfig.EndSession is set and discovery advertises an
// end_session_endpoint.
func (p *OIDCProvider) EndSessionURL(ctx context.Context, idTokenHint, postLogoutRedirectURI, state string) (string, error) {
	if !p.cfg.EndSession {
		return "", nil
	}
	m, err := p.meta.get(ctx)
	if err != nil {
		return "", err
	}
	if m.doc.EndSessionEndpoint == "" {
		return "", nil
	}
	u, err := url.Parse(m.doc.EndSessionEndpoint)
	if err != nil {
		return "", errfmt.Errorf("%w: end_session_endpoint: %w", ErrUnavailable, err)
	}
	q := u.Query()
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	q.Set("client_id", p.cfg.ClientID)
	q.Set("post_logout_redirect_uri", postLogoutRedirectURI)
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// VerifyLogoutToken implements LogoutTokenVerifier.
func (p *OIDCProvider) VerifyLogoutToken(ctx context.Context, raw string) (*LogoutClaims, error) {
	m, err := p.meta.get(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	claims, err := oidcjwt.VerifyLogoutToken(ctx, m.keys, raw, m.algs, oidcjwt.LogoutExpectations{
		Issuer:   p.cfg.Issuer,
		ClientID: p.cfg.ClientID,
		Now:      p.cfg.Now(),
		Skew:     p.cfg.ClockSkew,
	})
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrInvalidLogoutToken, p.tokenError(err))
	}
	return claims, nil
}
