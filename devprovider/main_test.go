package devprovider_test

import (
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no route log on the examples' stdout
	goleak.VerifyTestMain(m)
}
