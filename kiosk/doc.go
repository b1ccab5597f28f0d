// Package kiosk is the kiosk app's state, in plain Go: which screen the
// client sees, the running scene and breathing pace, the rating asked for,
// the sandtray, the help button, and the clearing of everything a client
// made when the session ends or the kiosk sits idle. The controller's
// commands and the client's touches change it; every change of note is an
// event. Package kiosk/screens draws it with ebiten; cmd/kiosk joins the
// two to the controller (kiosk/link).
package kiosk
