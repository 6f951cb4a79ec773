package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// NewRedis takes a go-redis client built with its own options (addresses,
// TLS, ACL user, pools; Sentinel and Cluster clients work too). The options
// must set ContextTimeoutEnabled, or RedisOptions.Timeout could not bound a
// call to a Redis that stops answering: NewRedis refuses such a client.
// Neither call below talks to Redis; Ping does, for start-up and health
// checks.
func ExampleNewRedis() {
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	_, err := store.NewRedis(plain, store.RedisOptions{})
	fmt.Println("without ContextTimeoutEnabled:", err != nil)
	plain.Close()

	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // required
	})
	sessions, err := store.NewRedis(client, store.RedisOptions{
		KeyPrefix: "myapp:ginauth:", // default "ginauth:"
		Timeout:   time.Second,      // bounds each store call; the default
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sessions.Close() // closes the client too
	fmt.Println("with ContextTimeoutEnabled:", err == nil)

	// Then: ginauth.New(ginauth.Config{ ..., Store: sessions }), with the
	// same Secrets on every instance that shares the Redis.

	// Output:
	// without ContextTimeoutEnabled: true
	// with ContextTimeoutEnabled: true
}

// NewRedisURL builds the client from a redis:// or rediss:// (TLS) URL,
// with ContextTimeoutEnabled set. It does not connect either.
func ExampleNewRedisURL() {
	sessions, err := store.NewRedisURL("rediss://:password@redis.example.com:6380/0", store.RedisOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()

	_, err = store.NewRedisURL("http://redis.example.com", store.RedisOptions{})
	fmt.Println("not a redis URL:", err != nil)

	// Output:
	// not a redis URL: true
}

// The memory store keeps sessions in the process: one instance, lost on
// restart, for development, tests and single-instance apps. Like Redis it
// implements store.Index, so Auth.SignOutUser and back-channel logout delete
// a user's sessions at once. Here alice signs in with the in-process test
// provider of package ginauthtest, and an admin action signs her out
// everywhere.
func ExampleNewMemory() {
	sessions := store.NewMemory(store.MemoryOptions{
		MaxSessions: 10_000, // default 100 000; when full, the session that expires soonest goes
	})
	defer sessions.Close() // stops its sweeper goroutine

	op, err := ginauthtest.Start(ginauthtest.Options{}) // signs in "alice" at once
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()
	dev, err := providers.OIDC(providers.OIDCConfig{
		Name: "dev", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	srv := httptest.NewServer(r)
	defer srv.Close()
	secret := make([]byte, 32)
	rand.Read(secret)
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   srv.URL,
		Secrets:   [][]byte{secret},
		Providers: []providers.Provider{dev},
		Store:     sessions,
	})
	if err != nil {
		log.Fatal(err)
	}
	auth.Register(r.Group("/auth"))
	r.GET("/me", auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, "hello "+u.Subject)
	})

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	defer browser.CloseIdleConnections()
	get := func(path string) {
		resp, err := browser.Get(srv.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}

	get("/auth/signin/dev?callbackUrl=/me") // through the provider and back to /me
	ctx := context.Background()
	ids, _ := sessions.List(ctx, "dev", "alice")
	fmt.Println("alice's sessions:", len(ids))

	if err := auth.SignOutUser(ctx, "dev", "alice"); err != nil {
		log.Fatal(err)
	}
	ids, _ = sessions.List(ctx, "dev", "alice")
	fmt.Println("alice's sessions:", len(ids))
	get("/me")

	// Output:
	// 200 hello alice
	// alice's sessions: 1
	// alice's sessions: 0
	// 401 {"error":"unauthenticated"}
}
