// Package kiosk will hold the ebiten-rendered client screens of the kiosk
// app (check-in, relaxation scenes, the digital sandtray, check-out and the
// call-counsellor button). It is empty until the kiosk issue lands.
package kiosk
