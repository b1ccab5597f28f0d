// Package jsonerr says what is wrong with a piece of JSON in words a
// person can act on: the field and the type it wants ("field after: want a
// whole number, got string"), never encoding/json's Go vocabulary ("cannot
// unmarshal string into Go struct field inFrame.after of type int64"). The
// device protocol, the console protocol and the REST API all use it.
package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Message rewrites an error of encoding/json (or of a time field inside
// it) to name the field and the expected type in words.
func Message(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "empty or truncated JSON"
	case errors.As(err, &pe):
		return fmt.Sprintf("want an RFC 3339 time such as 2026-11-24T08:30:00.5Z, got %q", pe.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Sprintf("want a JSON object, got %s", te.Value)
		}
		return fmt.Sprintf("field %s: want %s, got %s", te.Field, typeWord(te.Type.String()), te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return "unknown field " + f
	}
	return msg
}

// typeWord names a Go type as a JSON value in words.
func typeWord(goType string) string {
	switch {
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"):
		return "an object"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.Contains(goType, "time.Time"):
		return "an RFC 3339 time"
	case strings.Contains(goType, "int"):
		return "a whole number"
	case strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "string"):
		return "text"
	case strings.Contains(goType, "bool"):
		return "true or false"
	}
	return "a JSON value"
}
