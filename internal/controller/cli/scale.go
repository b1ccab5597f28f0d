package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"waystation/internal/platform/columns"
	"waystation/internal/platform/yamlfile"
	"waystation/sessions/scale"
)

func init() {
	register("scale lint", "check a measurement scale folder: scale lint [DIR]", scaleLint)
	register("scale list", "list the measurement scales", scaleList)
	register("scale score", "score answers: scale score SCALE --answers 2,1,0,... [--json]", scaleScore)
}

func scaleLint(env *Env, args []string) error {
	fs := flags(env, "scale lint")
	pos, err := parse(fs, args, 0, 1, "at most one folder")
	if err != nil {
		return err
	}
	dir := envOr(env, "WAYSTATION_SCALES", defaultScales)
	if len(pos) == 1 {
		dir = pos[0]
	}
	set, err := scale.LoadDir(dir)
	if err != nil {
		var errs yamlfile.Errors
		if errors.As(err, &errs) {
			return fmt.Errorf("%d problem(s) in %s:\n%w", len(errs), dir, err)
		}
		return err
	}
	if len(set.List()) == 0 {
		return fmt.Errorf("no scales (*.yaml) in %s", dir)
	}
	fmt.Fprintf(env.Stdout, "%d scales in %s: all good.\n", len(set.List()), dir)
	return nil
}

// scaleJSON is a scale as `scale list --json` prints it.
type scaleJSON struct {
	ID       string `json:"id"`
	TitleEN  string `json:"title_en"`
	TitleZH  string `json:"title_zh"`
	Items    int    `json:"items"`
	Licensed bool   `json:"licensed"`
	File     string `json:"file"`
}

func scaleList(env *Env, args []string) error {
	fs := flags(env, "scale list")
	dir := scalesFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the scales as a JSON array")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	set, err := scale.LoadDir(*dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "warning: some scales did not load (run: waystation scale lint %s)\n", *dir)
	}
	out := []scaleJSON{}
	for _, sc := range set.List() {
		out = append(out, scaleJSON{ID: sc.ID, TitleEN: sc.TitleEN, TitleZH: sc.TitleZH, Items: len(sc.Items), Licensed: sc.Licensed, File: sc.File})
	}
	if *asJSON {
		return writeJSON(env.Stdout, out)
	}
	tw := columns.New(env.Stdout)
	fmt.Fprintln(tw, "ID\tITEMS\tLICENSED\tTITLE")
	for _, s := range out {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\n", s.ID, s.Items, s.Licensed, s.TitleEN)
	}
	return tw.Flush()
}

func scaleScore(env *Env, args []string) error {
	fs := flags(env, "scale score")
	dir := scalesFlag(env, fs)
	list := fs.String("answers", "", "each item's answer, as the score the form prints, in item order: 2,1,0,...")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args, 1, 1, "one scale id (see: waystation scale list)")
	if err != nil {
		return err
	}
	set, err := scale.LoadDir(*dir)
	sc, ok := set.Get(pos[0])
	if !ok {
		if err != nil {
			return fmt.Errorf("no scale %q loaded from %s (run: waystation scale lint %s)", pos[0], *dir, *dir)
		}
		return fmt.Errorf("no scale %q in %s (see: waystation scale list)", pos[0], *dir)
	}
	if strings.TrimSpace(*list) == "" {
		return fmt.Errorf("--answers is required: %d answers for %s, separated by commas", len(sc.Items), sc.ID)
	}
	var answers []float64
	for i, f := range strings.Split(*list, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return fmt.Errorf("--answers: answer %d %q is not a number", i+1, f)
		}
		answers = append(answers, x)
	}
	r, err := sc.Score(answers)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, r)
	}
	fmt.Fprintf(env.Stdout, "%s: total %s, %s (%s)\n", sc.ID, strconv.FormatFloat(r.Total, 'f', -1, 64), r.BandEN, r.BandZH)
	for _, sub := range sc.Subscales {
		fmt.Fprintf(env.Stdout, "  %s: %s\n", sub.EN, strconv.FormatFloat(r.Subscales[sub.ID], 'f', -1, 64))
	}
	for _, h := range r.Alerts {
		fmt.Fprintf(env.Stdout, "ALERT item %d answered %s: %s\n", h.Item, strconv.FormatFloat(h.Score, 'f', -1, 64), h.EN)
	}
	return nil
}
