package cli

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"waystation/devices/blehrs"
	"waystation/sessions/hrv"
)

func init() {
	register("hrv", "heart-rate variability of RR intervals: hrv --rr FILE [--json] (one interval in ms a line; - reads stdin)", hrvCmd)
	register("ble-hrs decode", "decode a Bluetooth heart-rate measurement: ble-hrs decode HEX [--json]", bleDecode)
}

// hrvJSON is what `hrv --json` prints; a measure the series is too short
// for is null.
type hrvJSON struct {
	N         int      `json:"n"`
	Rejected  int      `json:"rejected"`
	MeanHR    *float64 `json:"mean_hr"`
	SDNN      *float64 `json:"sdnn_ms"`
	RMSSD     *float64 `json:"rmssd_ms"`
	PNN50     *float64 `json:"pnn50"`
	LF        *float64 `json:"lf"`
	HF        *float64 `json:"hf"`
	LFHF      *float64 `json:"lf_hf"`
	PeakHz    *float64 `json:"peak_hz"`
	Coherence *float64 `json:"coherence"`
	Band      *string  `json:"coherence_band"`
}

// readRR reads one interval in ms a line; blank lines and lines starting
// with # are skipped.
func readRR(r io.Reader, name string) ([]float64, error) {
	var out []float64
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s line %d: %q is not an interval in ms", name, line, s)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no intervals (one in ms a line)", name)
	}
	return out, nil
}

func round(p *float64, places int) *float64 {
	if p == nil || math.IsInf(*p, 0) {
		return p
	}
	k := math.Pow(10, float64(places))
	v := math.Round(*p*k) / k
	return &v
}

func hrvCmd(env *Env, args []string) error {
	fs := flags(env, "hrv")
	file := fs.String("rr", "", "the file of RR intervals, one in ms a line (- for stdin)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *file == "" {
		return usagef("--rr FILE is required")
	}
	in, name := io.Reader(env.Stdin), "stdin"
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, *file
	}
	rr, err := readRR(in, name)
	if err != nil {
		return err
	}
	td := hrv.TimeDomain([][]float64{rr})
	fd := hrv.FrequencyDomain(rr)
	out := hrvJSON{N: td.N, Rejected: td.Rejected, MeanHR: round(td.MeanHR, 1), SDNN: round(td.SDNN, 3), RMSSD: round(td.RMSSD, 3), PNN50: round(td.PNN50, 2),
		LF: round(fd.LF, 1), HF: round(fd.HF, 1), LFHF: round(fd.LFHF, 3), PeakHz: round(fd.PeakHz, 4)}
	if ratio, _, ok := hrv.Coherence(rr); ok {
		b := hrv.Band(ratio)
		out.Coherence, out.Band = round(&ratio, 3), &b
	}
	if *asJSON {
		return writeJSON(env.Stdout, out)
	}
	show := func(p *float64, unit string) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64) + unit
	}
	fmt.Fprintf(env.Stdout, "%d intervals (%d rejected as artifacts)\n", out.N, out.Rejected)
	fmt.Fprintf(env.Stdout, "mean HR %s  SDNN %s  RMSSD %s  pNN50 %s\n", show(out.MeanHR, " bpm"), show(out.SDNN, " ms"), show(out.RMSSD, " ms"), show(out.PNN50, " %"))
	fmt.Fprintf(env.Stdout, "LF %s  HF %s  LF/HF %s  peak %s\n", show(out.LF, " ms²"), show(out.HF, " ms²"), show(out.LFHF, ""), show(out.PeakHz, " Hz"))
	if out.Coherence != nil {
		fmt.Fprintf(env.Stdout, "coherence %s (%s, last %g s)\n", show(out.Coherence, ""), *out.Band, hrv.CoherenceWindow)
	} else {
		fmt.Fprintf(env.Stdout, "coherence - (needs %g s)\n", hrv.CoherenceWindow)
	}
	if out.LF == nil {
		fmt.Fprintf(env.Stdout, "(bands need %g s of intervals)\n", hrv.MinSpectral)
	}
	return nil
}

func bleDecode(env *Env, args []string) error {
	fs := flags(env, "ble-hrs decode")
	asJSON := fs.Bool("json", false, "print the measurement as JSON")
	pos, err := parse(fs, args, 1, 64, "the notification's bytes in hex, such as 16 38 37 04 07 03")
	if err != nil {
		return err
	}
	b, err := blehrs.ParseHex(strings.Join(pos, " "))
	if err != nil {
		return err
	}
	m, err := blehrs.Decode(b)
	if err != nil {
		return err
	}
	for i := range m.RR {
		m.RR[i] = *round(&m.RR[i], 3)
	}
	if *asJSON {
		return writeJSON(env.Stdout, m)
	}
	contact := "not reported"
	if m.Contact != nil {
		contact = map[bool]string{true: "yes", false: "no (lost)"}[*m.Contact]
	}
	fmt.Fprintf(env.Stdout, "%d bpm, contact %s", m.BPM, contact)
	if m.EnergyKJ != nil {
		fmt.Fprintf(env.Stdout, ", energy %d kJ", *m.EnergyKJ)
	}
	if m.RR != nil {
		fmt.Fprintf(env.Stdout, ", RR %v ms", m.RR)
	}
	fmt.Fprintln(env.Stdout)
	return nil
}
