// Package httpjson writes JSON responses and maps error codes to HTTP
// statuses, in one place: errors go out as {"error":{"code","message"}}.
package httpjson

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"waystation/internal/platform/jsonerr"
	"waystation/internal/platform/waystation"
)

// statuses maps each error code to its HTTP status.
var statuses = map[string]int{
	waystation.EINVALID:      http.StatusBadRequest,
	waystation.ENOTFOUND:     http.StatusNotFound,
	waystation.ECONFLICT:     http.StatusConflict,
	waystation.EUNAUTHORIZED: http.StatusUnauthorized,
	waystation.EFORBIDDEN:    http.StatusForbidden,
	waystation.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	waystation.EUNAVAILABLE:  http.StatusServiceUnavailable,
	waystation.ERATELIMIT:    http.StatusTooManyRequests,
	waystation.ETIMEOUT:      http.StatusGatewayTimeout,
	waystation.EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status for an error code.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Write sends v as JSON with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Error sends err with the status of its code. Internal errors are logged
// with their detail and sent without it.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	code := waystation.ErrorCode(err)
	if code == waystation.EINTERNAL {
		slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message = waystation.Localize(err, Lang(r))
	Write(w, Status(code), body)
}

// Lang is the language a request asks its messages in: "zh" when its
// Accept-Language header starts with Chinese (the console sends the
// language the user chose), else "en". Scripts that send nothing get
// English, as before.
func Lang(r *http.Request) string {
	al := strings.TrimSpace(strings.ToLower(r.Header.Get("Accept-Language")))
	if strings.HasPrefix(al, "zh") {
		return "zh"
	}
	return "en"
}

// MaxBody bounds a request body; no request of ours needs more.
const MaxBody = 1 << 20

// Decode reads a JSON request body into v strictly: unknown fields, wrong
// types, trailing data and oversized bodies are EINVALID or ETOOLARGE errors
// that name the problem.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return waystation.Errorf(waystation.EINVALID, "send the body as application/json, not %s", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return waystation.Errorf(waystation.ETOOLARGE, "request body is over %d bytes", MaxBody)
		case errors.Is(err, io.EOF):
			return waystation.Errorf(waystation.EINVALID, "request body is empty; send a JSON object")
		default:
			return waystation.Errorf(waystation.EINVALID, "request body: %s", jsonerr.Message(err))
		}
	}
	if dec.More() {
		return waystation.Errorf(waystation.EINVALID, "request body has more than one JSON value")
	}
	return nil
}

// UpgradeError answers a websocket upgrade that failed, such as a plain
// GET of a websocket route, in the shape of every other error; it is
// gorilla/websocket's Upgrader.Error.
func UpgradeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	code := waystation.EINVALID
	if status == http.StatusForbidden {
		code = waystation.EFORBIDDEN
	}
	Error(w, r, waystation.Errorf(code, "this route is a websocket (connect with Upgrade: websocket): %v", reason))
}

// NotFound answers a path no route serves.
func NotFound(w http.ResponseWriter, r *http.Request) {
	Error(w, r, waystation.Errorf(waystation.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
}

// Errorf is shorthand for sending a new error.
func Errorf(w http.ResponseWriter, r *http.Request, code, format string, args ...any) {
	Error(w, r, waystation.Errorf(code, format, args...))
}
