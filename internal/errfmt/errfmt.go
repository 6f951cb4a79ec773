// Package errfmt wraps errors the way fmt.Errorf does, with one difference:
// the text keeps the "ginauth: " prefix once. Every ginauth sentinel starts
// with that prefix, so wrapping one sentinel in another with fmt.Errorf
// ("%w: %w") would print "ginauth: invalid config: ginauth: invalid
// BaseURL: ...".
package errfmt

import (
	"fmt"
	"strings"
)

// prefix starts the text of every ginauth sentinel error.
const prefix = "ginauth: "

// Errorf is fmt.Errorf (the result unwraps to the same errors, so errors.Is
// and errors.As see every %w operand) whose text has each "ginauth: "
// prefix after the first removed where a wrapped error's text begins.
func Errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	msg := err.Error()
	if strings.Count(msg, prefix) < 2 {
		return err
	}
	return &wrapped{msg: Dedupe(msg), err: err}
}

// Dedupe returns msg with every ": ginauth: " turned into ": ", so that the
// prefix is left only where msg starts.
func Dedupe(msg string) string {
	return strings.ReplaceAll(msg, ": "+prefix, ": ")
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }

// Unwrap returns what fmt.Errorf returned, whose own Unwrap gives the
// wrapped errors.
func (w *wrapped) Unwrap() error { return w.err }
