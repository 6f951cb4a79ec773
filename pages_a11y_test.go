//go:build unix

package ginauth

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/a11ytest"
)

// TestPagesAccessibility renders every kind of built-in page in Chromium,
// at 1280 and 375 px wide, in the light and dark color schemes, checks it
// with axe-core (no serious or critical violation) and saves screenshots
// (internal/a11ytest: $GINAUTH_ARTIFACTS or testdata/artifacts).
func TestPagesAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	var a *Auth
	r := gin.New()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	a = newPageAuth(t, srv.URL, func(c *Config) { c.AppName = "Example Corp" })
	a.Register(r.Group("/auth"))
	fixtures := pageFixtures(a)
	r.GET("/fixture/:n", func(c *gin.Context) {
		for _, f := range fixtures {
			if f.name == c.Param("n") {
				a.page(c, f.page)
				return
			}
		}
		c.Status(http.StatusNotFound)
	})

	b := a11ytest.Start(t)
	for _, f := range fixtures {
		b.Check(t, "page-"+f.name, srv.URL+"/fixture/"+f.name, "")
	}
}
