package ginauth

import (
	"context"
	"errors"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/providers"
)

// CheckProviders checks the named providers (all when names is empty)
// against the providers themselves, for a start-up check: New does no
// network I/O, so mistakes such as an issuer with a trailing slash, an
// issuer that discovery contradicts (Microsoft Entra ID's multi-tenant
// template) or a wrong client secret otherwise show only at the first
// sign-in. Each provider that implements providers.Checker is checked (see
// OIDCProvider.CheckConfig for what is sent); the others are skipped.
//
// The error joins one error per failing provider, each naming the provider
// and, for a configuration mistake (errors.Is ErrProviderMisconfigured),
// what to set; a provider that could not be reached gives an error wrapping
// ErrProviderUnavailable. An unknown name gives ErrUnknownProvider. Run it
// after the server listens when a provider is served by the app itself (a
// development provider), and log the error rather than exit, so that a
// provider down at start does not keep the app down.
func (a *Auth) CheckProviders(ctx context.Context, names ...string) error {
	list := a.ordered
	if len(names) > 0 {
		list = make([]providers.Provider, 0, len(names))
		for _, n := range names {
			p, ok := a.providers[n]
			if !ok {
				return errfmt.Errorf("%w: %q", ErrUnknownProvider, n)
			}
			list = append(list, p)
		}
	}
	var errs []error
	for _, p := range list {
		c, ok := p.(providers.Checker)
		if !ok {
			continue
		}
		if err := c.CheckConfig(ctx, a.redirectURI(p.Name())); err != nil {
			errs = append(errs, errfmt.Errorf("ginauth: provider %s: %w", p.Name(), err))
		}
	}
	return errors.Join(errs...)
}
