package ginauth_test

import (
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/providers"
)

// This example names the app and translates part of the built-in pages:
// the sign-in page then greets in French, and every text left out keeps its
// English default. DefaultTexts lists every message ID.
func ExampleConfig_texts() {
	google, err := providers.Google(providers.GoogleConfig{ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	github, err := providers.GitHub(providers.GitHubConfig{ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   "https://intranet.example.com",
		Secrets:   [][]byte{exampleKey()},
		Providers: []providers.Provider{google, github},
		AppName:   "Acme intranet",
		Texts: map[string]string{
			"lang":           "fr",
			"signin.title":   "Connexion",
			"signin.heading": "Connexion à {app}",
			"signin.button":  "Continuer avec {provider}",
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	auth.Register(r.Group("/auth"))

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/auth/signin", nil))
	for line := range strings.SplitSeq(w.Body.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "<html"), strings.HasPrefix(line, "<h1>"), strings.HasPrefix(line, `<p class="lead">`):
			fmt.Println(line)
		case strings.Contains(line, "<button"):
			_, label, _ := strings.Cut(line, "<span>")
			label, _, _ = strings.Cut(label, "</span>")
			fmt.Println(label)
		}
	}
	fmt.Println(ginauth.DefaultTexts()["error.invalid_state.next"])
	// Output:
	// <html lang="fr" dir="ltr"><head><meta charset="utf-8">
	// <h1>Connexion à Acme intranet</h1>
	// <p class="lead">Choose how you want to sign in.</p>
	// Continuer avec Google
	// Continuer avec GitHub
	// Start the sign-in again from this site.
}
