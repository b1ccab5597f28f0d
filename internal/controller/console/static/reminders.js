// The count of the counsellor's open reminders beside "Reminders" in the
// bar, asked again every minute while logged in.
import { $, api } from "./core.js";

let reminderTimer = null;
let lastCount = 0;

// refreshReminderCount shows n, or the last count known when n is not given
// (the bar is drawn again when the language changes).
export function refreshReminderCount(n) {
  if (n !== undefined) lastCount = n;
  n = lastCount;
  const el = $("#nav-reminders-count");
  if (!el) return;
  el.textContent = n ? String(n) : "";
  el.hidden = !n;
}

async function ask() {
  try { refreshReminderCount((await api("GET", "/v1/reminders")).reminders.length); } catch (e) { /* the bar keeps the last count */ }
}

// watchReminders starts (or with on false stops) asking.
export function watchReminders(on) {
  clearInterval(reminderTimer);
  reminderTimer = null;
  if (!on) return;
  ask();
  reminderTimer = setInterval(ask, 60000);
}
