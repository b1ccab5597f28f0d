// Command waystation is the counselling-room controller: `waystation serve`
// runs it; the other subcommands register rooms and devices and check
// profiles. See `waystation help`.
package main

import (
	"os"

	"waystation/internal/controller/cli"
)

func main() {
	os.Exit(cli.Run())
}
