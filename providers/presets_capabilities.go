package providers

// The GitLab and Apple presets wrap the OIDC provider and keep every one of
// its capabilities.
var (
	_ Refresher               = (*GitLabProvider)(nil)
	_ Revoker                 = (*GitLabProvider)(nil)
	_ EndSessioner            = (*GitLabProvider)(nil)
	_ FormPoster              = (*GitLabProvider)(nil)
	_ AuthorizationIssChecker = (*GitLabProvider)(nil)
)

var (
	_ Refresher               = (*AppleProvider)(nil)
	_ Revoker                 = (*AppleProvider)(nil)
	_ FormPoster              = (*AppleProvider)(nil)
	_ AuthorizationIssChecker = (*AppleProvider)(nil)
)
