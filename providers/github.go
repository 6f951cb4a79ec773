package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// GitHub endpoints (github.com).
const (
	GitHubURL    = "https://github.com"
	GitHubAPIURL = "https://api.github.com"
)

// GitHubAPIVersion is the REST API version ginauth asks for.
const GitHubAPIVersion = "2022-11-28"

// gitHubMaxPages bounds the pages of /user/orgs and /user/teams read at
// sign-in (100 entries each).
const gitHubMaxPages = 10

// GitHubConfig configures the GitHub preset (an OAuth app, or a GitHub App
// signing users in).
type GitHubConfig struct {
	Name         string // default "github"
	DisplayName  string // default "GitHub"
	ClientID     string
	ClientSecret string

	// EnterpriseURL is the base URL of a GitHub Enterprise Server, e.g.
	// https://github.example.com: authorization at <url>/login/oauth/authorize,
	// token at <url>/login/oauth/access_token, REST API at <url>/api/v3.
	// Empty: github.com.
	EnterpriseURL string

	// AllowedOrgs restricts sign-in to members of these organizations
	// (logins, case-insensitive). AllowedTeams restricts it to members of
	// these teams, each "org/team-slug". When both are set, membership of
	// any listed org or team is enough. Either adds the read:org scope; a
	// user outside them is refused with ErrClaimRejected.
	AllowedOrgs  []string
	AllowedTeams []string
	// Groups fetches the user's organizations and teams even without a
	// restriction (adds read:org).
	Groups bool

	HTTPClient *http.Client
	Timeout    time.Duration
	Now        func() time.Time
}

// GitHubProvider is the GitHub preset.
type GitHubProvider struct {
	*OAuth2Provider
	api          string
	clientID     string
	clientSecret string
}

var gitHubSlug = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

// GitHub returns the GitHub preset, on the generic OAuth 2.0 provider:
// state and PKCE S256, scopes read:user and user:email (and read:org for
// groups), users keyed by GitHub's numeric user ID (sub is its decimal
// string, never the login). name is the profile name or else the login;
// email is the primary verified address from GET /user/emails, with
// email_verified true only then (no such address: no email). With Groups,
// AllowedOrgs or AllowedTeams, the groups claim lists the user's
// organizations ("org") and teams ("org/team-slug"), lower-cased.
//
// Sign-out with token revocation deletes the access token
// (DELETE <api>/applications/<client_id>/token). GitHub issues refresh
// tokens only for GitHub Apps with expiring user tokens; they are refreshed
// when present.
func GitHub(cfg GitHubConfig) (*GitHubProvider, error) {
	if cfg.Name == "" {
		cfg.Name = "github"
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = "GitHub"
	}
	web, api := GitHubURL, GitHubAPIURL
	if cfg.EnterpriseURL != "" {
		base := strings.TrimSuffix(cfg.EnterpriseURL, "/")
		if err := CheckIssuerURL(base); err != nil {
			return nil, errfmt.Errorf("%w: provider %s: EnterpriseURL: %v", ErrInvalidConfig, cfg.Name, err)
		}
		web, api = base, base+"/api/v3"
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errfmt.Errorf("%w: provider %s: ClientID and ClientSecret are required", ErrInvalidConfig, cfg.Name)
	}
	orgs := make([]string, 0, len(cfg.AllowedOrgs))
	for _, o := range cfg.AllowedOrgs {
		if !gitHubSlug.MatchString(o) {
			return nil, errfmt.Errorf("%w: provider %s: AllowedOrgs: %q is not an organization login", ErrInvalidConfig, cfg.Name, o)
		}
		orgs = append(orgs, strings.ToLower(o))
	}
	teams := make([]string, 0, len(cfg.AllowedTeams))
	for _, t := range cfg.AllowedTeams {
		org, slug, ok := strings.Cut(t, "/")
		if !ok || !gitHubSlug.MatchString(org) || !gitHubSlug.MatchString(slug) {
			return nil, errfmt.Errorf("%w: provider %s: AllowedTeams: %q is not org/team-slug", ErrInvalidConfig, cfg.Name, t)
		}
		teams = append(teams, strings.ToLower(t))
	}
	restricted := len(orgs) > 0 || len(teams) > 0
	fetchGroups := restricted || cfg.Groups
	scopes := []string{"read:user", "user:email"}
	if fetchGroups {
		scopes = append(scopes, "read:org")
	}
	apiHeaders := http.Header{
		"Accept":               {"application/vnd.github+json"},
		"X-Github-Api-Version": {GitHubAPIVersion},
	}
	g := &GitHubProvider{api: api, clientID: cfg.ClientID, clientSecret: cfg.ClientSecret}
	mapUser := func(ctx context.Context, a *OAuth2API, m map[string]any) (*OAuth2User, error) {
		u, err := gitHubUser(ctx, a, api, m)
		if err != nil {
			return nil, err
		}
		if !fetchGroups {
			return u, nil
		}
		if u.Groups, err = gitHubGroups(ctx, a, api); err != nil {
			return nil, err
		}
		if restricted && !slices.ContainsFunc(u.Groups, func(g string) bool {
			return slices.Contains(orgs, g) || slices.Contains(teams, g)
		}) {
			return nil, errfmt.Errorf("%w: not a member of an allowed GitHub organization or team", ErrClaimRejected)
		}
		return u, nil
	}
	p, err := OAuth2(OAuth2Config{
		Name:         cfg.Name,
		DisplayName:  cfg.DisplayName,
		Issuer:       web,
		AuthURL:      web + "/login/oauth/authorize",
		TokenURL:     web + "/login/oauth/access_token",
		UserURL:      api + "/user",
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		ClientAuth:   ClientSecretBasic,
		Scopes:       scopes,
		TokenHeaders: http.Header{"Accept": {"application/json"}},
		APIHeaders:   apiHeaders,
		MapUser:      mapUser,
		Revoke:       g.revoke,
		HTTPClient:   cfg.HTTPClient,
		Timeout:      cfg.Timeout,
		Now:          cfg.Now,
		// GitHub answers 200 with error=bad_refresh_token for a refresh
		// token it no longer accepts.
		invalidGrantCodes: []string{"bad_refresh_token"},
	})
	if err != nil {
		return nil, err
	}
	g.OAuth2Provider = p
	return g, nil
}

// gitHubUser maps GET /user, completed with GET /user/emails.
func gitHubUser(ctx context.Context, a *OAuth2API, api string, m map[string]any) (*OAuth2User, error) {
	id, ok := m["id"].(json.Number)
	if !ok || !isDecimalID(id.String()) {
		return nil, errfmt.Errorf("%w: GitHub user without a numeric id", ErrUserInfo)
	}
	login, _ := m["login"].(string)
	u := &OAuth2User{Subject: id.String(), Extra: map[string]any{}}
	if login != "" {
		u.Extra["preferred_username"] = login
	}
	if pic, _ := m["avatar_url"].(string); pic != "" {
		u.Extra["picture"] = pic
	}
	if u.Name, _ = m["name"].(string); u.Name == "" {
		u.Name = login
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if _, err := a.GetJSON(ctx, api+"/user/emails", &emails); err != nil {
		// 403/404: the token may not read emails (a GitHub App without the
		// email permission): no email. Anything else fails the sign-in.
		var ae *APIError
		if !errors.As(err, &ae) || (ae.Status != http.StatusForbidden && ae.Status != http.StatusNotFound) {
			return nil, userEndpointError(err)
		}
	}
	for _, e := range emails {
		if e.Primary && e.Verified && e.Email != "" {
			u.Email, u.EmailVerified = e.Email, true
			break
		}
	}
	return u, nil
}

func isDecimalID(s string) bool {
	if s == "" || len(s) > 20 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// gitHubGroups lists the user's organizations and teams, lower-cased.
func gitHubGroups(ctx context.Context, a *OAuth2API, api string) ([]string, error) {
	var groups []string
	var orgs []struct {
		Login string `json:"login"`
	}
	if err := gitHubPages(ctx, a, api, api+"/user/orgs?per_page=100", &orgs); err != nil {
		return nil, err
	}
	for _, o := range orgs {
		if o.Login != "" {
			groups = append(groups, strings.ToLower(o.Login))
		}
	}
	var teams []struct {
		Slug         string `json:"slug"`
		Organization struct {
			Login string `json:"login"`
		} `json:"organization"`
	}
	if err := gitHubPages(ctx, a, api, api+"/user/teams?per_page=100", &teams); err != nil {
		return nil, err
	}
	for _, t := range teams {
		if t.Slug != "" && t.Organization.Login != "" {
			groups = append(groups, strings.ToLower(t.Organization.Login+"/"+t.Slug))
		}
	}
	slices.Sort(groups)
	return slices.Compact(groups), nil
}

// gitHubPages reads a paginated list into *out, following Link rel="next"
// within the API's origin and path for at most gitHubMaxPages pages.
func gitHubPages[T any](ctx context.Context, a *OAuth2API, api, first string, out *[]T) error {
	next := first
	for range gitHubMaxPages {
		var page []T
		h, err := a.GetJSON(ctx, next, &page)
		if err != nil {
			return userEndpointError(err)
		}
		*out = append(*out, page...)
		next = nextLink(h.Get("Link"))
		if next == "" {
			return nil
		}
		if !strings.HasPrefix(next, api+"/") {
			return errfmt.Errorf("%w: GitHub pagination link leaves the API", ErrUserInfo)
		}
	}
	return nil // bounded: further pages are not read
}

// nextLink returns the rel="next" target of an RFC 8288 Link header.
func nextLink(h string) string {
	for part := range strings.SplitSeq(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); k == "rel" && strings.Trim(v, `"`) == "next" {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}

// revoke deletes an access token at GitHub. GitHub has no separate
// revocation of refresh tokens: deleting the access token is what there is,
// so a refresh token is ignored. 204 is success; 404 means the token is
// already gone.
func (g *GitHubProvider) revoke(ctx context.Context, client *http.Client, token, hint string) error {
	if hint == "refresh_token" {
		return nil
	}
	body, err := json.Marshal(map[string]string{"access_token": token})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, g.api+"/applications/"+url.PathEscape(g.clientID)+"/token", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", GitHubAPIVersion)
	req.SetBasicAuth(g.clientID, g.clientSecret)
	resp, err := client.Do(req)
	if err != nil {
		return errfmt.Errorf("%w: revocation: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusNotFound:
		return nil
	}
	return errfmt.Errorf("%w: revocation answered HTTP %d", ErrUnavailable, resp.StatusCode)
}
