// The rooms page: each room's devices and what they are doing.
import { fmtTime, h, main, state } from "../core.js";
import { t } from "../i18n.js";

export function deviceBadge(d) {
  const ok = d.status === "online";
  return h("span", { class: "badge " + (ok ? "up" : "down"), "data-status": d.status, text: ok ? t("device.online") : t("device.offline") });
}

export function roomsView(view) {
  const render = () => {
    const list = h("div", { class: "grid" });
    if (!state.rooms.length) list.append(h("p", { text: t("rooms.none") }));
    for (const room of state.rooms) {
      const devs = Object.values(state.devices).filter((d) => d.room_id === room.id);
      list.append(h("section", { class: "card" }, h("h2", { text: room.name }),
        h("ul", { class: "devices" }, devs.map((d) => h("li", { "data-device": d.id },
          deviceBadge(d), " ", h("strong", { text: d.name }), " ",
          h("span", { class: "muted", text: d.profile + (d.firmware ? " · " + d.firmware : "") }),
          d.firmware_ok === false ? h("span", { class: "badge warn", text: t("device.firmware_bad") }) : null,
          d.last_seen ? h("span", { class: "muted small", text: " · " + t("device.last_seen") + " " + fmtTime(d.last_seen) }) : null)))));
    }
    main().replaceChildren(h("h1", { text: t("rooms.title") }), list);
  };
  view.onDevices = render;
  render();
}
