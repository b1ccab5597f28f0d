package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/image/font/sfnt"

	"waystation/content"
	"waystation/sessions"
)

// Lang is the language a report is written in: the session's ("zh" or
// "en"; "zh" when its plan names none, as the sites' screens default).
func (d Data) Lang() string {
	var p struct {
		Lang string `json:"lang"`
	}
	json.Unmarshal(d.Session.Plan, &p)
	if p.Lang == "en" {
		return "en"
	}
	return "zh"
}

// words are the report's fixed texts in each language.
var words = map[string]map[string]string{
	"en": {
		"title": "Session report", "client": "Client", "risk": "risk", "counsellor": "counsellor", "session": "Session",
		"created": "created", "started": "started", "ended": "ended",
		"purged": "The session's content was purged on %s under the retention period.",
		"plan":   "Plan", "noplan": "No plan: steered as it went.",
		"ratings": "Check-in and check-out", "noratings": "No ratings.", "distress": "distress", "mood": "mood",
		"selfchecks": "Self-checks", "total": "total", "answers": "answers (item:score)",
		"flag.too_fast": "answered very fast", "flag.same_answer": "the same answer throughout",
		"hr": "Heart rate", "hrcaption": "Mean heart rate per 10 s, bpm, %s to %s.", "hrfew": "Too few readings for a chart.",
		"assess": "Craving assessment", "level": "Level", "phase": "Phase", "craving": "Craving", "meanhr": "Mean HR", "dhr": "Δ HR",
		"sdnn": "SDNN ms", "rmssd": "RMSSD ms",
		"traystep": "Sandtray at the end of plan step %d (%s)", "trayfinal": "Sandtray: the final tray, after %d actions",
		"drawing": "Drawing %d: %s", "draw.facts": "%s · %d strokes · %d erasures, %d undos · pauses over 5 s: %s", "draw.order": "Parts finished in the order: %s",
		"draw.unfinished": "not finished", "draw.note": "A description of how the picture was made, not a reading of what it means.",
		"tmpl.htp": "House-Tree-Person", "tmpl.blank": "blank page", "tmpl.mandala": "mandala %s", "el.house": "house", "el.tree": "tree", "el.person": "person",
		"alerts": "Alerts", "none": "None.", "notacked": "not acknowledged", "acked": "acknowledged by %s after %s",
		"resolved.station_back": "closed by itself: the station came back", "resolved.session_ended": "closed by itself: the session ended",
		"notes": "Notes", "timeline": "Timeline",
		"footer":       "Waystation · session %s · client %s · confidential health data · page %d",
		"replaced":     "Characters the report's fonts cannot show (emoji, say) are printed as %s.",
		"step.checkin": "Check-in", "step.relaxation": "Relaxation", "step.music": "Music", "step.sandtray": "Sandtray",
		"step.vr": "VR program", "step.scale": "Self-check", "step.checkout": "Check-out", "levels": "levels",
		"checkin": "check-in", "checkout": "check-out",
		"state.planned": "planned", "state.running": "running", "state.paused": "paused", "state.ended": "ended",
		"state.aborted": "aborted", "state.interrupted": "interrupted",
		"risk.low": "low", "risk.medium": "medium", "risk.high": "high",
		"alert.help.requested": "Client asked for help", "alert.device.lost": "Station lost",
		"alert.telemetry.threshold": "Heart rate held over its limit",
		"mood.calm":                 "calm", "mood.sad": "sad", "mood.anxious": "anxious", "mood.angry": "angry", "mood.tired": "tired", "mood.okay": "okay",
		"phase.baseline": "baseline", "phase.cue": "cue", "phase.recovery": "recovery",
	},
	"zh": {
		"title": "会谈报告", "client": "来访者", "risk": "风险", "counsellor": "咨询师", "session": "会谈",
		"created": "创建", "started": "开始", "ended": "结束",
		"purged": "按保存期限，本次会谈内容已于 %s 清除。",
		"plan":   "方案", "noplan": "无方案：临时引导。",
		"ratings": "签到与签退", "noratings": "没有评分。", "distress": "困扰程度", "mood": "心情",
		"selfchecks": "自评量表", "total": "总分", "answers": "作答（题号:分数）",
		"flag.too_fast": "作答过快", "flag.same_answer": "所有题目同一答案",
		"hr": "心率", "hrcaption": "每 10 秒平均心率（次/分），%s 至 %s。", "hrfew": "读数太少，无法绘图。",
		"assess": "渴求评估", "level": "级别", "phase": "阶段", "craving": "渴求", "meanhr": "平均心率", "dhr": "心率变化",
		"sdnn": "SDNN 毫秒", "rmssd": "RMSSD 毫秒",
		"traystep": "方案第 %d 步结束时的沙盘（%s）", "trayfinal": "沙盘：最终画面，共 %d 次操作",
		"drawing": "绘画 %d：%s", "draw.facts": "%s · %d 笔 · 擦除 %d 次，撤销 %d 次 · 超过 5 秒的停顿：%s", "draw.order": "各部分完成顺序：%s",
		"draw.unfinished": "未完成", "draw.note": "以上只描述作画过程，不解读含义，也不作诊断。",
		"tmpl.htp": "房树人", "tmpl.blank": "空白画纸", "tmpl.mandala": "曼陀罗 %s", "el.house": "房子", "el.tree": "树", "el.person": "人",
		"alerts": "警报", "none": "无。", "notacked": "未确认", "acked": "由 %s 在 %s 后确认",
		"resolved.station_back": "已自动解除：设备已重新连接", "resolved.session_ended": "已自动解除：会谈已结束",
		"notes": "记录", "timeline": "时间线",
		"footer":       "Waystation · 会谈 %s · 来访者 %s · 保密健康信息 · 第 %d 页",
		"replaced":     "报告字体无法显示的字符（如表情符号）以 %s 表示。",
		"step.checkin": "签到", "step.relaxation": "放松", "step.music": "音乐", "step.sandtray": "沙盘",
		"step.vr": "VR 程序", "step.scale": "自评量表", "step.checkout": "签退", "levels": "级别",
		"checkin": "签到", "checkout": "签退",
		"state.planned": "已计划", "state.running": "进行中", "state.paused": "已暂停", "state.ended": "已结束",
		"state.aborted": "已中止", "state.interrupted": "已中断",
		"risk.low": "低", "risk.medium": "中", "risk.high": "高",
		"alert.help.requested": "来访者请求帮助", "alert.device.lost": "设备断开",
		"alert.telemetry.threshold": "心率持续超过上限",
		"mood.calm":                 "平静", "mood.sad": "难过", "mood.anxious": "紧张", "mood.angry": "生气", "mood.tired": "疲惫", "mood.okay": "还好",
		"phase.baseline": "基线", "phase.cue": "线索", "phase.recovery": "恢复",
	},
}

// tr is the text for key in lang; a key with no text (a mood a kiosk
// sent that the report does not know, say) is shown as it is.
func tr(lang, key string) string {
	if s, ok := words[lang][key]; ok {
		return s
	}
	if _, v, ok := strings.Cut(key, "."); ok {
		return v
	}
	return key
}

// title is a catalogue item's title in lang, or its id when the
// catalogue does not have it.
func title(lang, kind, id string) string {
	it, ok := content.GetKind(kind, id)
	switch {
	case !ok:
		return id
	case lang == "zh" && it.TitleZH != "":
		return it.TitleZH
	case it.TitleEN != "":
		return it.TitleEN
	}
	return id
}

// stepLabel names a plan step in lang: its title if the plan gave one,
// else its kind, then what it plays (scene, pace, program, levels).
func stepLabel(lang string, st sessions.Step) string {
	parts := []string{tr(lang, "step."+st.Kind)}
	if st.Title != "" {
		parts = []string{st.Title}
	}
	if st.Scene != "" {
		parts = append(parts, title(lang, content.KindScene, st.Scene))
	}
	if st.BPM > 0 {
		parts = append(parts, fmt.Sprintf("%g/min", st.BPM))
	}
	if st.Content != "" {
		t := title(lang, content.KindSoundscape, st.Content)
		if t == st.Content {
			t = title(lang, content.KindTrack, st.Content)
		}
		parts = append(parts, t)
	}
	if st.Program != "" {
		parts = append(parts, title(lang, content.KindVRProgram, st.Program))
	}
	if st.Scale != "" {
		parts = append(parts, st.Scale)
	}
	if len(st.Levels) > 0 {
		ls := make([]string, len(st.Levels))
		for i, l := range st.Levels {
			ls[i] = fmt.Sprint(l)
		}
		parts = append(parts, tr(lang, "levels")+" "+strings.Join(ls, ", "))
	}
	return strings.Join(parts, " · ")
}

// Replacement is what the report prints for a character neither of its
// fonts has (emoji, rare scripts): visible, so a reader knows something
// was there.
const Replacement = "�"

// glyphs says which characters each font can show; read once.
var glyphs = struct {
	once       sync.Once
	latin, cjk *sfnt.Font
	err        error
	buf        sfnt.Buffer
	mu         sync.Mutex
}{}

// loadGlyphs parses the two fonts for their character maps.
func loadGlyphs(latin, cjk []byte) error {
	glyphs.once.Do(func() {
		if glyphs.latin, glyphs.err = sfnt.Parse(latin); glyphs.err != nil {
			glyphs.err = fmt.Errorf("session report font %s: %w", Fonts.Latin, glyphs.err)
			return
		}
		if glyphs.cjk, glyphs.err = sfnt.Parse(cjk); glyphs.err != nil {
			glyphs.err = fmt.Errorf("session report font %s: %w", Fonts.CJK, glyphs.err)
		}
	})
	return glyphs.err
}

// has reports whether f has a glyph for r.
func has(f *sfnt.Font, r rune) bool {
	glyphs.mu.Lock()
	defer glyphs.mu.Unlock()
	i, err := f.GlyphIndex(&glyphs.buf, r)
	return err == nil && i != 0
}

// fontFor says which font sets r: "latin", "cjk", or "" when neither has
// it. The PDF writer indexes its fonts' glyphs by 16-bit code, so anything
// past U+FFFF (most emoji) is never sent to it: a note with an emoji once
// made it panic (index out of range) and the download failed.
func fontFor(r rune) string {
	switch {
	case r == '\t':
		return "latin"
	case r > 0xFFFF || r < 0x20 || glyphs.latin == nil:
		return ""
	case isCJK(r) && has(glyphs.cjk, r):
		return "cjk"
	case has(glyphs.latin, r):
		return "latin"
	case has(glyphs.cjk, r):
		return "cjk"
	}
	return ""
}
