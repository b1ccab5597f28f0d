package waystation

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in one place (package api) and
// travels unchanged in websocket error frames.
const (
	EINVALID      = "invalid"      // the input is malformed or out of range
	ENOTFOUND     = "not_found"    // the named thing does not exist
	ECONFLICT     = "conflict"     // it exists already, or the state forbids it
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, wrong role
	ETOOLARGE     = "too_large"    // the input is over a size limit
	EUNAVAILABLE  = "unavailable"  // the controller cannot take it now (disk full, shutting down)
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	ERATELIMIT    = "rate_limited" // too many attempts
	ETIMEOUT      = "timeout"      // a peer did not answer in time
)

// Error is an error meant for a person or a script: a code and a message that
// says what was wrong. Internal failures are wrapped in ordinary errors and
// reported as EINTERNAL without their detail.
type Error struct {
	Code    string
	Message string
	// Format and Args are what Errorf made Message from: a message
	// catalogue keyed by Format can say the same in another language
	// (Localize).
	Format string
	Args   []any
}

// Error implements the error interface.
func (e *Error) Error() string {
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for internal errors, whose detail belongs in the log only.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
