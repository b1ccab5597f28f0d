// Package layout holds the project's layout rules, which its test enforces
// by reading the imports of every package (go list):
//
//   - the top level holds the design card's entries (cmd, kiosk, devices,
//     sessions, content, firmware-profiles, go.mod, go.sum, Makefile,
//     README.md) and internal, docs, scripts, dotfiles and licence files;
//     no Go file;
//   - internal/platform (the domain types and error codes, the store, the
//     audit log, backups, accounts, HTTP and network helpers) imports
//     nothing of devices, sessions, kiosk, content, the controller's wiring
//     (internal/controller) or the test tooling (internal/testkit);
//   - devices, sessions, kiosk and content import nothing of the wiring or
//     the test tooling;
//   - kiosk never imports sessions: the kiosk app talks to the controller
//     over the device protocol only;
//   - content imports nothing of the project outside content: it is the
//     catalogue, a leaf.
//
// docs/ARCHITECTURE.md says why the tree is grouped so.
package layout
