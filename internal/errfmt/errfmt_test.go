package errfmt

import (
	"errors"
	"io"
	"testing"
)

func TestErrorfKeepsOnePrefix(t *testing.T) {
	outer := errors.New("ginauth: invalid config")
	inner := errors.New("ginauth: invalid BaseURL")
	err := Errorf("%w: %w: %q is wrong", outer, inner, "x")
	if got, want := err.Error(), `ginauth: invalid config: invalid BaseURL: "x" is wrong`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, outer) || !errors.Is(err, inner) {
		t.Fatal("errors.Is lost a wrapped sentinel")
	}
	nested := Errorf("%w: %w", errors.New("ginauth: a"), Errorf("%w: %w", errors.New("ginauth: b"), io.EOF))
	if got, want := nested.Error(), "ginauth: a: b: EOF"; got != want {
		t.Fatalf("nested Error() = %q, want %q", got, want)
	}
	if !errors.Is(nested, io.EOF) {
		t.Fatal("errors.Is lost io.EOF through two wraps")
	}
	plain := Errorf("%w: detail", io.EOF)
	if plain.Error() != "EOF: detail" {
		t.Fatalf("plain Error() = %q", plain.Error())
	}
}
