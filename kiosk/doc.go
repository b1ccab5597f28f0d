// Package kiosk will hold the ebiten-rendered client screens of the kiosk
// app (check-in, relaxation scenes, the digital sandtray, check-out and the
// call-counsellor button). Its plain-Go parts come first: kiosk/sandtray,
// the sandtray's figures, tray and actions, which the controller and the
// console replay too.
package kiosk
