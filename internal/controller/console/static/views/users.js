// Accounts, for admins.
import { api, cannot, current, fail, fmtDay, h, main, state, toast } from "../core.js";
import { t } from "../i18n.js";

// Accounts, for admins: add one, set a password, disable or enable.
export async function usersView(view) {
  const shown = current();
  main().replaceChildren(h("p", { text: t("loading") }));
  let data;
  try { data = await api("GET", "/v1/users"); } catch (e) { if (!shown()) return; return cannot("nav.users", e); }
  if (!shown()) return;
  const again = () => usersView(view);
  const act = (fn) => async () => { try { await fn(); again(); } catch (e) { fail(e); } };
  const rows = data.users.map((u) => h("tr", { "data-user": u.name, class: u.disabled ? "disabled" : "" },
    h("td", { text: u.name }), h("td", { text: t("role." + u.role) }), h("td", { text: u.disabled ? t("users.disabled") : t("users.active") }),
    h("td", { text: fmtDay(u.created) }),
    h("td", { class: "actions" },
      h("button", { type: "button", "data-act": "password", onclick: act(async () => {
        const pw = prompt(t("users.new_password").replace("{name}", u.name));
        if (pw) { await api("PATCH", "/v1/users/" + encodeURIComponent(u.name), { password: pw }); toast(t("users.password_set")); }
      }) }, t("users.set_password")),
      u.id === state.user.id ? null : h("button", { type: "button", class: u.disabled ? "" : "danger", "data-act": u.disabled ? "enable" : "disable",
        onclick: act(() => api("PATCH", "/v1/users/" + encodeURIComponent(u.name), { disabled: !u.disabled })) }, u.disabled ? t("users.enable") : t("users.disable")))));
  const name = h("input", { id: "user-name", autocomplete: "off", placeholder: t("users.name") });
  const role = h("select", { id: "user-role" }, ["counsellor", "technician", "admin"].map((r) => h("option", { value: r, text: t("role." + r) })));
  const pw = h("input", { id: "user-password", type: "password", autocomplete: "new-password", placeholder: t("users.password") });
  const err = h("p", { class: "err", role: "alert" });
  const add = h("button", { type: "button", class: "primary", id: "user-add", onclick: async () => {
    err.textContent = "";
    try { await api("POST", "/v1/users", { name: name.value, role: role.value, password: pw.value }); again(); } catch (e) { err.textContent = e.message; }
  } }, t("users.add"));
  main().replaceChildren(h("section", { class: "card" }, h("h1", { text: t("nav.users") }),
    h("table", { class: "list", id: "users-table" }, h("thead", {}, h("tr", {}, ["users.name", "users.role", "users.state", "clients.registered", ""].map((k) => h("th", { text: k ? t(k) : "" })))), h("tbody", {}, rows))),
    h("section", { class: "card" }, h("h2", { text: t("users.add") }), h("div", { class: "row" }, name, role, pw, add), h("p", { class: "muted small", text: t("users.password_help") }), err));
}
