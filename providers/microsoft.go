package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// MicrosoftAuthority is the worldwide Microsoft Entra ID cloud instance.
const MicrosoftAuthority = "https://login.microsoftonline.com"

// MicrosoftConsumersTenant is the tenant ID of personal Microsoft accounts:
// the tid (and issuer) of every token the "consumers" tenant issues.
const MicrosoftConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// The multi-tenant aliases MicrosoftConfig.Tenant accepts.
const (
	MicrosoftCommon        = "common"        // work, school and personal accounts
	MicrosoftOrganizations = "organizations" // work and school accounts
	MicrosoftConsumers     = "consumers"     // personal Microsoft accounts
)

// microsoftTenantTemplate is the placeholder Entra's multi-tenant discovery
// documents have in their issuer.
const microsoftTenantTemplate = "{tenantid}"

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsMicrosoftTenantID reports whether s is a tenant ID (a GUID).
func IsMicrosoftTenantID(s string) bool { return guidPattern.MatchString(s) }

// MicrosoftConfig configures the Microsoft Entra ID preset.
//
// Tenant is a directory (tenant) ID, a GUID: one tenant, whose exact issuer
// <Authority>/<tenant>/v2.0 every check uses. Or one of the multi-tenant
// aliases common, organizations and consumers (default common): their
// discovery document names the template issuer <Authority>/{tenantid}/v2.0,
// accepted as such for these configs only, and each ID token's iss must be
// exactly <Authority>/<tid>/v2.0 for the token's own tid claim (a GUID;
// required). The literal template, another host or another authority is
// refused. With organizations, tokens of MicrosoftConsumersTenant are
// refused; with consumers, only those are accepted. Verified domain names
// (contoso.onmicrosoft.com) are refused: Entra's tokens name the tenant ID,
// so use that.
//
// Users are keyed by the token's own iss (the tenant's issuer) and sub:
// Identity.Issuer is the per-tenant issuer, and the provider implements
// IssuerMatcher so that sessions and refreshes accept it. Issuer() stays the
// configured <Authority>/<Tenant>/v2.0, a stable identifier of the config.
//
// Entra's email claim is not verified by Microsoft (any tenant admin can set
// any address): the identity's email_verified claim is set from the
// xms_edov optional claim only (true, "true" or 1: the email's domain is
// verified by the tenant), and is false otherwise, whatever email_verified
// the token carried. Ask for xms_edov in the app registration's optional
// claims if verified emails matter (allow-lists by email, for example).
// UserInfo (Microsoft Graph) is never fetched (OIDCConfig.SkipUserInfo):
// its email is not the one xms_edov vouches for.
//
// Group overage: a user in more groups than fit in a token gets no groups
// claim, but a _claim_names entry pointing at Microsoft Graph (or
// hasgroups: true). The identity then has no groups claim and a
// groups_overage: true claim (User.Claim("groups_overage")), so that
// RequireClaim("groups", ...) refuses such users rather than reading "no
// groups"; with RejectGroupOverage the sign-in is refused instead
// (ErrClaimRejected, the not_allowed page).
//
// Back-channel logout tokens are checked against Issuer() exactly, so a
// multi-tenant config refuses them (Entra does not send them).
type MicrosoftConfig struct {
	Name         string // default "microsoft"
	DisplayName  string // default "Microsoft"
	ClientID     string
	ClientSecret string // empty for a public client (PKCE only)
	// Tenant: a tenant ID (GUID), or common, organizations, consumers.
	// Default common.
	Tenant string
	// AllowedTenants, with Tenant common or organizations, restricts sign-in
	// to these tenant IDs (GUIDs): a token of another tid is refused with
	// ErrClaimRejected (the not_allowed page), and sessions of tenants no
	// longer listed end. Empty: any tenant. Not allowed with other tenants.
	AllowedTenants []string
	// Authority is the cloud instance, for national clouds
	// (https://login.microsoftonline.us, ...): an https origin, no path.
	// Default MicrosoftAuthority.
	Authority string
	Scopes    []string // default "profile", "email"

	// RejectGroupOverage refuses users whose groups did not fit in the token.
	RejectGroupOverage bool
	// EndSession makes sign-out also end the Microsoft session.
	EndSession bool

	HTTPClient *http.Client
	Timeout    time.Duration
	ClockSkew  time.Duration
	Now        func() time.Time
}

// Microsoft returns the Microsoft Entra ID preset: OpenID Connect with
// discovery from <Authority>/<Tenant>/v2.0. See MicrosoftConfig.
func Microsoft(cfg MicrosoftConfig) (*OIDCProvider, error) {
	if cfg.Name == "" {
		cfg.Name = "microsoft"
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = "Microsoft"
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"profile", "email"}
	}
	authority, err := microsoftAuthority(cfg.Authority)
	if err != nil {
		return nil, errfmt.Errorf("%w: %s: %w", ErrInvalidConfig, cfg.Name, err)
	}
	tenant := strings.ToLower(strings.TrimSpace(cfg.Tenant))
	if tenant == "" {
		tenant = MicrosoftCommon
	}
	multi := false
	switch {
	case tenant == MicrosoftCommon || tenant == MicrosoftOrganizations || tenant == MicrosoftConsumers:
		multi = true
	case IsMicrosoftTenantID(tenant):
	default:
		return nil, errfmt.Errorf("%w: %s: Tenant %q is not a tenant ID (a GUID) nor common, organizations or consumers (domain names are not accepted: use the directory (tenant) ID)", ErrInvalidConfig, cfg.Name, cfg.Tenant)
	}
	allowed := map[string]bool{}
	for _, t := range cfg.AllowedTenants {
		if !IsMicrosoftTenantID(t) {
			return nil, errfmt.Errorf("%w: %s: AllowedTenants entry %q is not a tenant ID (a GUID)", ErrInvalidConfig, cfg.Name, t)
		}
		allowed[strings.ToLower(t)] = true
	}
	if len(allowed) > 0 && tenant != MicrosoftCommon && tenant != MicrosoftOrganizations {
		return nil, errfmt.Errorf("%w: %s: AllowedTenants needs Tenant common or organizations, not %q", ErrInvalidConfig, cfg.Name, tenant)
	}
	p, err := OIDC(OIDCConfig{
		Name:         cfg.Name,
		DisplayName:  cfg.DisplayName,
		Issuer:       authority + "/" + tenant + "/v2.0",
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Scopes:       cfg.Scopes,
		EndSession:   cfg.EndSession,
		// Entra ID puts the claims in the ID token (optional claims in
		// the app registration). Its UserInfo (Microsoft Graph) email is
		// not the one xms_edov vouches for: never merged.
		SkipUserInfo: true,
		HTTPClient:   cfg.HTTPClient,
		Timeout:      cfg.Timeout,
		ClockSkew:    cfg.ClockSkew,
		Now:          cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	r := &microsoftTenants{authority: authority, tenant: tenant, allowed: allowed}
	if multi {
		p.issuers = &issuerRule{
			discovery: r.discoveryIssuer,
			token:     r.checkToken,
			accepts:   r.accepts,
		}
	}
	p.adjustFn = func(claims map[string]any) error { return r.adjust(claims, multi, cfg.RejectGroupOverage) }
	return p, nil
}

// microsoftAuthority checks and normalises MicrosoftConfig.Authority.
func microsoftAuthority(raw string) (string, error) {
	if raw == "" {
		return MicrosoftAuthority, nil
	}
	trimmed := strings.TrimSuffix(raw, "/")
	u, err := url.Parse(trimmed)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Path != "" || u.RawPath != "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" || "https://"+u.Host != trimmed {
		return "", fmt.Errorf("Authority %q must be an https origin without path, such as %s", raw, MicrosoftAuthority)
	}
	return trimmed, nil
}

// issuerRule replaces the exact issuer comparisons of an OIDCProvider with
// no single issuer. Every function must be safe for concurrent use.
type issuerRule struct {
	discovery func(docIssuer string) bool                               // the discovery document's issuer
	token     func(iss string, claims map[string]json.RawMessage) error // an ID token's iss (signature already checked)
	accepts   func(iss string) bool                                     // a session's issuer, an RFC 9207 iss
}

// tokenCheck is the IDTokenExpectations.IssuerCheck of r: nil (exact
// comparison) without a rule.
func (r *issuerRule) tokenCheck() func(string, map[string]json.RawMessage) error {
	if r == nil {
		return nil
	}
	return r.token
}

// microsoftTenants holds a Microsoft config's tenant rules.
type microsoftTenants struct {
	authority string
	tenant    string          // lower case: a GUID or an alias
	allowed   map[string]bool // lower-case tenant IDs; empty: any
}

func (m *microsoftTenants) tenantIssuer(tid string) string { return m.authority + "/" + tid + "/v2.0" }

// discoveryIssuer: the template, for this authority; for consumers, whose
// document names its one tenant, that tenant's issuer too.
func (m *microsoftTenants) discoveryIssuer(iss string) bool {
	return iss == m.tenantIssuer(microsoftTenantTemplate) ||
		m.tenant == MicrosoftConsumers && iss == m.tenantIssuer(MicrosoftConsumersTenant)
}

// aliasAllows applies the alias's own restriction to a tenant ID.
func (m *microsoftTenants) aliasAllows(tid string) bool {
	switch m.tenant {
	case MicrosoftConsumers:
		return strings.EqualFold(tid, MicrosoftConsumersTenant)
	case MicrosoftOrganizations:
		return !strings.EqualFold(tid, MicrosoftConsumersTenant)
	}
	return true
}

// checkToken: iss must be <authority>/<tid>/v2.0 for the token's own tid.
func (m *microsoftTenants) checkToken(iss string, claims map[string]json.RawMessage) error {
	var tid string
	raw, ok := claims["tid"]
	if !ok || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) || json.Unmarshal(raw, &tid) != nil {
		return errors.New("tid claim missing or not a string")
	}
	if !IsMicrosoftTenantID(tid) {
		return errors.New("tid claim is not a tenant ID")
	}
	if iss != m.tenantIssuer(tid) {
		return errors.New("iss is not the issuer of the token's tid on the configured authority")
	}
	if !m.aliasAllows(tid) {
		return fmt.Errorf("tenant not served by the %s endpoint", m.tenant)
	}
	return nil
}

// accepts: iss is <authority>/<tid>/v2.0 for a tenant ID this config
// accepts (AllowedTenants included).
func (m *microsoftTenants) accepts(iss string) bool {
	rest, ok := strings.CutPrefix(iss, m.authority+"/")
	if !ok {
		return false
	}
	tid, ok := strings.CutSuffix(rest, "/v2.0")
	return ok && IsMicrosoftTenantID(tid) && m.aliasAllows(tid) && m.tenantAllowed(tid)
}

func (m *microsoftTenants) tenantAllowed(tid string) bool {
	return len(m.allowed) == 0 || m.allowed[strings.ToLower(tid)]
}

// adjust applies AllowedTenants, sets email_verified from xms_edov only and
// reports group overage (see MicrosoftConfig).
func (m *microsoftTenants) adjust(claims map[string]any, multi, rejectOverage bool) error {
	if multi {
		tid, _ := claims["tid"].(string)
		if !m.tenantAllowed(tid) {
			return errfmt.Errorf("%w: tenant %q is not in AllowedTenants", ErrClaimRejected, truncate(tid))
		}
	}
	email, _ := claims["email"].(string)
	claims["email_verified"] = email != "" && microsoftTrue(claims["xms_edov"])

	overage := claims["hasgroups"] == true
	if names, ok := claims["_claim_names"].(map[string]any); ok {
		if _, ok := names["groups"]; ok {
			overage = true
		}
	}
	if overage {
		if rejectOverage {
			return errfmt.Errorf("%w: the user's groups do not fit in the token (group overage)", ErrClaimRejected)
		}
		delete(claims, "groups")
		delete(claims, "_claim_names")
		delete(claims, "_claim_sources")
		delete(claims, "hasgroups")
		claims["groups_overage"] = true
	}
	return nil
}

// microsoftTrue reads a boolean optional claim: true, "true" or 1.
func microsoftTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	case json.Number:
		return v.String() == "1"
	}
	return false
}

// adjustClaims decodes claims (numbers as json.Number, so none loses
// precision), applies fn and encodes them again.
func adjustClaims(claims json.RawMessage, fn func(map[string]any) error) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(claims))
	dec.UseNumber()
	var all map[string]any
	if err := dec.Decode(&all); err != nil || all == nil {
		return nil, errfmt.Errorf("%w: claims are not a JSON object", ErrClaimRejected)
	}
	if err := fn(all); err != nil {
		return nil, err
	}
	out, err := json.Marshal(all)
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrClaimRejected, err)
	}
	return out, nil
}
