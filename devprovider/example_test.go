package devprovider_test

import (
	"fmt"
	"log"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/devprovider"
	"github.com/ginauth/ginauth/providers"
)

// In development mode, one call mounts the development provider on the
// app's router and gives the provider to sign in with.
func ExampleMount() {
	const baseURL = "http://127.0.0.1:8080" // where the app is served
	r := gin.New()

	var list []providers.Provider
	if gin.Mode() != gin.ReleaseMode {
		dev, err := devprovider.Mount(r, baseURL)
		if err != nil {
			log.Fatal(err)
		}
		list = append(list, dev)
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   baseURL,
		Secrets:   [][]byte{[]byte("example secret: at least 32 bytes long")},
		Providers: list,
	})
	if err != nil {
		log.Fatal(err)
	}
	auth.Register(r.Group("/auth"))

	for _, p := range list {
		fmt.Println(p.Name(), p.Issuer())
	}
	// Output: dev http://127.0.0.1:8080/dev-oidc
}
