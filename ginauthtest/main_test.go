package ginauthtest_test

import (
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The kit's tests and examples build Gin apps: no route log on stdout.
	gin.SetMode(gin.TestMode)
	goleak.VerifyTestMain(m)
}
