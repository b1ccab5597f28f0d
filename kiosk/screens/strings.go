package screens

// words are the kiosk's texts, Chinese first, then English.
var words = map[string][2]string{
	"help":            {"呼叫咨询师", "Call counsellor"},
	"help.sent":       {"已通知您的咨询师，他们很快就来。请在这里稍等。", "Your counsellor has been told and is coming. Please stay here."},
	"help.offline":    {"现在联系不上咨询师的系统。您的求助已经记下，恢复连接后会马上送达。\n请留在这里，大声呼叫或敲门，请附近的工作人员帮忙。", "The system cannot reach your counsellor right now. Your call is saved and will be sent as soon as it can.\nPlease stay here and call out or knock on the door for the staff nearby."},
	"ok":              {"好的", "OK"},
	"attract.title":   {"欢迎来到放松室", "Welcome to the relaxation room"},
	"attract.sub":     {"请稍候，咨询师会为您开始。", "Please wait: your counsellor will start with you."},
	"checkin.title":   {"您现在感觉有多难受？", "How distressed do you feel right now?"},
	"checkout.title":  {"结束前，您现在感觉有多难受？", "Before you go: how distressed do you feel now?"},
	"checkin.scale":   {"0 = 完全平静    10 = 非常难受", "0 = completely calm    10 = extremely distressed"},
	"checkin.mood":    {"哪个词最接近您的心情？", "Which word is closest to your mood?"},
	"done":            {"完成", "Done"},
	"draw.htp":        {"请画一座房子、一棵树和一个人。画好一样，就点右边对应的按钮。", "Draw a house, a tree and a person. Tap the button on the right as you finish each."},
	"draw.blank":      {"想画什么就画什么，画好了点“完成”。", "Draw whatever you like; tap Done when you have finished."},
	"draw.mandala":    {"选一个颜色，点一块空白处给它涂色。", "Choose a colour, then tap a space to colour it in."},
	"draw.width0":     {"细笔", "Thin"},
	"draw.width1":     {"中笔", "Medium"},
	"draw.width2":     {"粗笔", "Thick"},
	"draw.pen":        {"画笔", "Pen"},
	"draw.eraser":     {"橡皮", "Eraser"},
	"draw.fill":       {"涂色", "Fill"},
	"draw.undo":       {"撤销", "Undo"},
	"draw.redo":       {"重做", "Redo"},
	"draw.clear":      {"清空", "Clear"},
	"draw.house":      {"房子画好了", "House done"},
	"draw.tree":       {"树画好了", "Tree done"},
	"draw.person":     {"人画好了", "Person done"},
	"mood.calm":       {"平静", "Calm"},
	"mood.sad":        {"难过", "Sad"},
	"mood.anxious":    {"紧张", "Anxious"},
	"mood.angry":      {"生气", "Angry"},
	"mood.tired":      {"疲惫", "Tired"},
	"mood.okay":       {"还好", "Okay"},
	"waiting.title":   {"谢谢您。", "Thank you."},
	"feedback.none":   {"继续慢慢地呼吸就好——传感器暂时没有信号。", "Just keep breathing slowly: the sensor has no signal for now."},
	"waiting.sub":     {"咨询师会带您进行下一步。您可以慢慢地呼吸。", "Your counsellor will guide you to what comes next. Breathe slowly."},
	"goodbye.title":   {"谢谢您的参与，请保重。", "Thank you for taking part. Take care."},
	"rating.hint":     {"请点一个数字", "Tap a number"},
	"check.progress":  {"第 %d 题，共 %d 题", "Question %d of %d"},
	"check.back":      {"上一题", "Back"},
	"check.read":      {"朗读", "Read aloud"},
	"breathe.in":      {"吸气", "Breathe in"},
	"breathe.hold":    {"屏住", "Hold"},
	"breathe.out":     {"呼气", "Breathe out"},
	"breathe.pace":    {"每分钟 %g 次", "%g breaths a minute"},
	"tool.move":       {"移动", "Move"},
	"tool.dig":        {"挖沙", "Dig"},
	"tool.heap":       {"堆沙", "Heap"},
	"tool.left":       {"左转", "Turn left"},
	"tool.right":      {"右转", "Turn right"},
	"tool.bigger":     {"放大", "Bigger"},
	"tool.smaller":    {"缩小", "Smaller"},
	"tool.flip":       {"翻转", "Flip"},
	"tool.raise":      {"上移", "To front"},
	"tool.lower":      {"下移", "To back"},
	"tool.remove":     {"拿走", "Remove"},
	"tool.undo":       {"撤销", "Undo"},
	"tool.redo":       {"重做", "Redo"},
	"tray.hint":       {"从左边的架子上把小物件拖到沙盘里。", "Drag figures from the shelf on the left into the tray."},
	"offline":         {"离线", "offline"},
	"identify":        {"设备识别", "Identify"},
	"pin.title":       {"技术人员：请输入 PIN", "Technician: enter the PIN"},
	"pin.wrong":       {"PIN 不正确", "Wrong PIN"},
	"pin.none":        {"此设备登记时没有设置 PIN：请在控制器上停止本服务。", "No PIN was set when this device was registered: stop the service on the controller."},
	"pin.cancel":      {"取消", "Cancel"},
	"settings.title":  {"设置（技术人员）", "Settings (technician)"},
	"settings.exit":   {"退出自助终端", "Exit kiosk"},
	"settings.back":   {"返回", "Back"},
	"settings.lang":   {"切换语言", "Switch language"},
	"guide.pmr":       {"渐进式肌肉放松", "Progressive muscle relaxation"},
	"guide.grounding": {"5-4-3-2-1 着陆练习", "5-4-3-2-1 grounding"},
}

// guideSteps are the guided texts, one step shown at a time.
var guideSteps = map[string][][2]string{
	"pmr": {
		{"舒服地坐好，闭上眼睛或看着前方的一个点。", "Sit comfortably. Close your eyes or rest them on one spot."},
		{"握紧双拳，数五下……然后慢慢松开，感受放松。", "Clench both fists, count to five… then let go slowly and feel the release."},
		{"耸起双肩贴近耳朵，保持……然后让它们沉下来。", "Lift your shoulders up to your ears, hold… then let them drop."},
		{"皱紧额头和脸，保持……然后让脸变得柔软。", "Scrunch your forehead and face, hold… then let your face go soft."},
		{"收紧腹部，保持……然后随着呼气放松。", "Tighten your stomach, hold… then relax as you breathe out."},
		{"脚趾向下用力，绷紧双腿……然后完全放松。", "Press your toes down and tense your legs… then let them go completely."},
		{"感受整个身体的沉重和温暖。慢慢呼吸。", "Notice your whole body, heavy and warm. Breathe slowly."},
	},
	"grounding": {
		{"看一看：说出你能看到的 5 样东西。", "Look around: name 5 things you can see."},
		{"摸一摸：找出你能触摸到的 4 样东西。", "Touch: find 4 things you can feel."},
		{"听一听：注意你能听到的 3 种声音。", "Listen: notice 3 sounds you can hear."},
		{"闻一闻：找出你能闻到的 2 种气味。", "Smell: find 2 things you can smell."},
		{"尝一尝：注意你能尝到的 1 种味道。", "Taste: notice 1 thing you can taste."},
		{"你在这里，现在是安全的。慢慢呼吸。", "You are here, now. Breathe slowly."},
	},
}

// say returns a text in the language (zh or en).
func say(lang, key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return w[1]
	}
	return w[0]
}
