// Package content will hold the catalogue of scenes, music, VR programs and
// sandtray figures, with assets generated in the repository. It is empty
// until the kiosk and audio issues land.
package content
