package sessions

// Template is a ready-made plan the console offers when a session is
// created. Course says how many sessions a treatment is usually given over
// (1 for a single session); the client's assessments are compared across
// them.
type Template struct {
	ID      string `json:"id"`
	TitleEN string `json:"title_en"`
	TitleZH string `json:"title_zh"`
	Course  int    `json:"course"`
	Plan    Plan   `json:"plan"`
}

// cueLevels are the levels of the cue-reactivity assessment: the neutral
// baseline, then cue levels 1 to 5, each rated.
var cueLevels = []int{0, 1, 2, 3, 4, 5}

// Templates are the plans the console offers.
var Templates = []Template{
	{ID: "relax", TitleEN: "Relaxation", TitleZH: "放松", Course: 1, Plan: Plan{Steps: []Step{
		{Kind: StepCheckin}, {Kind: StepRelaxation, Scene: "sea", BPM: 6}, {Kind: StepMusic, Content: "rain"}, {Kind: StepCheckout}}}},
	{ID: "sandtray", TitleEN: "Sandtray", TitleZH: "沙盘", Course: 1, Plan: Plan{Steps: []Step{
		{Kind: StepCheckin}, {Kind: StepSandtray}, {Kind: StepCheckout}}}},
	// Measurement at entry, during and before release: the free scales
	// shipped in content/scales, each on the kiosk, scored on the controller.
	{ID: "self-check", TitleEN: "Self-check (PHQ-9, GAD-7)", TitleZH: "心理自评（PHQ-9、GAD-7）", Course: 1, Plan: Plan{Steps: []Step{
		{Kind: StepCheckin}, {Kind: StepScale, Scale: "phq-9"}, {Kind: StepScale, Scale: "gad-7"}, {Kind: StepCheckout}}}},
	// Biofeedback: find the client's resonance breathing rate (five
	// two-minute epochs), then relax at it (the relaxation step has no
	// pace of its own, so it takes the rate found) with the scene
	// following the heart's coherence.
	{ID: "resonance", TitleEN: "Resonance breathing (find the rate, then relax with biofeedback)", TitleZH: "共振呼吸（测定频率后生物反馈放松）", Course: 1, Plan: Plan{Steps: []Step{
		{Kind: StepCheckin}, {Kind: StepResonance}, {Kind: StepRelaxation, Scene: "forest", Biofeedback: true}, {Kind: StepCheckout}}}},
	{ID: "vr", TitleEN: "VR relaxation", TitleZH: "VR 放松", Course: 1, Plan: Plan{Steps: []Step{
		{Kind: StepCheckin}, {Kind: StepVR, Program: "beach", Levels: []int{1, 2}}, {Kind: StepCheckout}}}},
	// The cue-reactivity assessment: baseline, cue levels each with a
	// craving rating, then recovery in a relaxation program.
	{ID: "cue-assessment", TitleEN: "Cue-reactivity assessment", TitleZH: "线索反应评估", Course: 1, Plan: Plan{Steps: []Step{
		{Kind: StepCheckin},
		{Kind: StepVR, Title: "Cue exposure", Program: "cue-assessment", Levels: cueLevels, Rating: true},
		{Kind: StepVR, Title: "Recovery", Program: "beach", Levels: []int{0}},
		{Kind: StepCheckout}}}},
	// Counter-conditioning: cue exposure paired with aversive imagery, then
	// with positive imagery, and relaxation, over a course of sessions; the
	// first and last of the course are usually full assessments.
	{ID: "counter-conditioning", TitleEN: "Counter-conditioning treatment", TitleZH: "对抗条件化治疗", Course: 8, Plan: Plan{Steps: []Step{
		{Kind: StepCheckin},
		{Kind: StepVR, Title: "Cue exposure", Program: "cue-assessment", Levels: []int{0, 1, 2}, Rating: true},
		{Kind: StepVR, Title: "Aversive imagery", Program: "imagery-consequences"},
		{Kind: StepVR, Title: "Cue exposure", Program: "cue-assessment", Levels: []int{2, 3}, Rating: true},
		{Kind: StepVR, Title: "Positive imagery", Program: "imagery-future-self"},
		{Kind: StepVR, Title: "Relaxation", Program: "mountain-lake", Levels: []int{0, 1}},
		{Kind: StepCheckout}}}},
}
