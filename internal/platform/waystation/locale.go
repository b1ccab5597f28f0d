package waystation

import (
	"errors"
	"fmt"
	"strings"
)

// Localize returns err's message for a person reading lang ("zh" or "en";
// anything else is English). Messages are written in English with Errorf;
// the catalogue below says them in Chinese, keyed by the English format (as
// gettext keys by the msgid), with the same arguments in the same order.
// A message the catalogue lacks is given in English, as is the generic
// message of an internal error.
func Localize(err error, lang string) string {
	msg := ErrorMessage(err)
	if !strings.HasPrefix(lang, "zh") {
		return msg
	}
	var e *Error
	if !errors.As(err, &e) {
		if err != nil {
			return "内部错误"
		}
		return msg
	}
	if zh, ok := messagesZH[e.Format]; ok && e.Format != "" {
		return fmt.Sprintf(zh, e.Args...)
	}
	return msg
}

// MessagesZH returns the catalogue's size and whether it has format, for
// tests and the docs.
func MessagesZH(format string) (string, bool) {
	zh, ok := messagesZH[format]
	return zh, ok
}

// messagesZH is the Chinese catalogue: the messages a counsellor,
// technician or admin meets at the tablet. Arguments are ids, codes and
// numbers, shown as they are.
var messagesZH = map[string]string{
	// accounts and logins
	"log in first":                                        "请先登录",
	"account %q is disabled; ask an admin":                "账户 %q 已停用；请联系管理员",
	"a %s may not do this (%s %s)":                        "角色 %s 无权执行此操作（%s %s）",
	"a user named %q exists already":                      "用户名 %q 已存在",
	"password is too short: at least %d characters":       "密码太短：至少 %d 个字符",
	"password is too long: at most 72 bytes":              "密码太长：最多 72 字节",
	"password starts or ends with spaces; leave them out": "密码首尾不能有空格",
	"unknown user %q":                                     "没有用户 %q",
	"you cannot disable your own account":                 "不能停用自己的账户",
	`give "password" or "disabled"`:                       `请提供 "password" 或 "disabled"`,
	"wrong user name or password":                         "用户名或密码错误",
	"cross-site request refused":                          "已拒绝跨站请求",
	// clients, consent, the e-file
	"client %q exists already": "来访者 %q 已存在",
	"client code %q must be 2 to 32 letters, digits and dashes (a pseudonymous code, never a name)":                    "来访者编号 %q 须为 2 到 32 个字母、数字或连字符（使用化名编号，不要填写姓名）",
	"client %s has no consent on file for what this session records: %s (record it with POST /v1/clients/%s/consents)": "来访者 %s 尚未同意本次会谈记录的内容：%s（请先记录同意，POST /v1/clients/%s/consents）",
	"name the guardian who consents for client %s":                                                                     "请填写为来访者 %s 表示同意的监护人姓名",
	"name what is consented to: scopes from %s":                                                                        "请选择同意的范围：%s",
	"consent %s was already withdrawn":                                                                                 "同意 %s 已撤回",
	"client %s is already %s risk":                                                                                     "来访者 %s 的风险等级已是 %s",
	"say why the risk tier changes (a reason)":                                                                         "请说明风险等级变更的原因",
	"risk %q must be low, medium or high":                                                                              "风险等级 %q 须为 low、medium 或 high",
	"give the follow-up a due date":                                                                                    "请填写随访日期",
	"say what to check (1-500 characters)":                                                                             "请填写随访内容（1 到 500 个字符）",
	"client %s has no follow-up %s":                                                                                    "来访者 %s 没有随访 %s",
	"follow-up %s is already %s":                                                                                       "随访 %s 已是 %s",
	"say why client %s is under legal hold (a reason)":                                                                 "请说明来访者 %s 依法保留记录的原因",
	// sessions, steering, plans
	"no session %q":             "没有会谈 %q",
	"no figure %q on the shelf": "沙具架上没有沙具 %q",
	"figure %s is a weapon, and this site does not show weapons (serve --sandtray-weapons)": "沙具 %s 是武器，本站点不展示武器（serve --sandtray-weapons）",
	"q searches figures only: add kind=figure":                                              "q 只用于搜索沙具：请加上 kind=figure",
	"cannot %s session %s: it is %s":                                                        "无法对会谈 %[2]s 执行 %[1]s：它的状态是 %[3]s",
	"session %s is %s; commands need a running or paused session":                           "会谈 %s 的状态是 %s；只有进行中或暂停的会谈可以发送指令",
	"session %s is %s; steps change in a running or paused session":                         "会谈 %s 的状态是 %s；只有进行中或暂停的会谈可以切换步骤",
	"step %d is outside the plan (it has %d steps)":                                         "第 %d 步超出方案（方案共 %d 步）",
	"the plan is already at step %d (it was moved meanwhile, perhaps from another tablet)":  "方案已在第 %d 步（刚被移动过，可能是另一台平板）",
	"the plan moved on meanwhile; reload and try again":                                     "方案刚被移动过；请刷新后重试",
	"a session needs 1 to 16 stations (device ids), got %d":                                 "一次会谈需要 1 到 16 台设备，当前为 %d 台",
	"station %s is listed twice":                                                            "设备 %s 重复列出",
	"station %s (%s) is in session %s, which is still open":                                 "设备 %s（%s）正在会谈 %s 中，该会谈尚未结束",
	"station %s (%s) has been removed from the registry":                                    "设备 %s（%s）已从登记中移除",
	"device %s is offline":                                                                  "设备 %s 离线",
	"device %s is not a station of session %s":                                              "设备 %s 不属于会谈 %s",
	"device %s did not acknowledge %s in time":                                              "设备 %s 未及时确认 %s",
	"the note is empty":                                            "记录为空",
	"the note is longer than %d characters":                        "记录超过 %d 个字符",
	"an override needs a reason (it is kept in the session's log)": "跳过需填写原因（会记入会谈日志）",
	"the override's reason is longer than 500 characters":          "跳过原因超过 500 个字符",
	"no level of this step has run yet; start with next":           "本步骤尚未开始任何级别；请从“下一级”开始",
	"level %d is the last of this step; go on to the next step":    "级别 %d 是本步骤的最后一级；请进入下一步",
	"alert %s was already acknowledged":                            "警报 %s 已被确认",
	"only counsellors may steer sessions":                          "只有咨询师可以控制会谈",
	// devices, pairing, rooms
	"a room named %q exists already":                                                               "房间 %q 已存在",
	"room %q already has a device named %q":                                                        "房间 %q 已有名为 %q 的设备",
	"give the device a name (--name)":                                                              "请为设备命名",
	"profile %s is an OSC device: give the address HOST:PORT where it listens":                     "型号配置 %s 是 OSC 设备：请填写其监听地址 HOST:PORT",
	"profile %s is a serial device: give the port PATH it is on (such as /dev/ttyUSB0)":            "型号配置 %s 是串口设备：请填写其端口路径（如 /dev/ttyUSB0）",
	"profile %s (transport %s) connects to the controller itself; it takes no address":             "型号配置 %s（传输方式 %s）由设备主动连接控制器，无需地址",
	"no device is waiting with pairing code %s; check the code on the device's screen":             "没有设备在等待配对码 %s；请核对设备屏幕上的代码",
	"a pairing code is %d digits, as the device shows it; got %q":                                  "配对码为 %d 位数字（以设备显示为准），收到的是 %q",
	"pairing code %s expired at %s; start pairing on the device again for a new code":              "配对码 %s 已于 %s 过期；请在设备上重新开始配对以获取新代码",
	"pairing code %s was already used (device %s); each code pairs one device once":                "配对码 %s 已被使用（设备 %s）；每个代码只能配对一台设备一次",
	"%d wrong, expired or reused pairing codes in the last %v: pairing is paused; try again in %v": "最近 %[2]v 内有 %[1]d 次错误、过期或重复的配对码：配对已暂停，请在 %[3]v 后重试",
	"device %s has profile %q, which is not loaded":                                                "设备 %s 的型号配置 %q 未加载",
	"a kiosk PIN is 4 to 12 digits":                                                                "终端 PIN 为 4 到 12 位数字",
	"the controller's disk is full; the event was not stored, send it again later":                 "控制器磁盘已满；事件未保存，请稍后重发",
	"the controller is shutting down; the event was not stored, send it again later":               "控制器正在关闭；事件未保存，请稍后重发",
	// aftercare: reminders and the online check-in (the client meets these)
	"this code is not known: check it, or ask your counsellor for a new one":                    "打卡码无效：请核对，或向您的咨询师索取新码",
	"this code has been used: each code is for one check-in; ask your counsellor for a new one": "此打卡码已使用：每个码只能打卡一次；请向您的咨询师索取新码",
	"this code was replaced by a newer one: use the newest code your counsellor gave you":       "此打卡码已被新码替换：请使用咨询师最新提供的打卡码",
	"this code expired on %s: ask your counsellor for a new one":                                "此打卡码已于 %s 过期：请向您的咨询师索取新码",
	"distress and mood are 0 to 10, not %d and %d":                                              "痛苦和情绪评分应为 0 到 10，收到的是 %d 和 %d",
	"give both ratings: distress and mood, 0 to 10":                                             "请给出两项评分：痛苦和情绪，0 到 10",
	"too many codes that were not known; try again in %d seconds":                               "无效的打卡码过多；请在 %d 秒后重试",
	"hours: a code lives 1 to %d hours, not %d":                                                 "有效时长：打卡码有效 1 到 %d 小时，收到的是 %d",
	"reminder %s closes when the contact is logged (POST /v1/clients/%s/contacts)":              "提醒 %s 在记录回访后自动消除（POST /v1/clients/%s/contacts）",
	"reminder %s is already closed":                                                             "提醒 %s 已处理",
	"no reminder %s":                                                                            "没有提醒 %s",
	"profile %s is a Bluetooth heart-rate strap: give its Bluetooth address, such as A0:9E:1A:12:34:56 (bluetoothctl devices lists them)": "型号配置 %s 是蓝牙心率带：请填写其蓝牙地址，如 A0:9E:1A:12:34:56（bluetoothctl devices 可列出）",
}
