// The console shell: sign-in, the section tabs and the status line.
//
// Each section is a module exporting render(context); the tab in the URL
// fragment (#members, #quality, ...) picks it. The fragment holds nothing
// but the section name.

import { Api, ApiError } from "./api.js";
import { replace } from "./dom.js";
import * as audit from "./audit.js";
import * as devices from "./devices.js";
import * as directory from "./directory.js";
import * as meetings from "./meetings.js";
import * as members from "./members.js";
import * as privacy from "./privacy.js";
import * as quality from "./quality.js";

const SECTIONS = { members, directory, meetings, devices, privacy, audit, quality };
const DEVICE_KEY = "cloudlink.console.device";

const api = new Api();
const $ = (id) => document.getElementById(id);

/** A device id for this browser, kept so that it counts as one device. */
function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `console-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function showStatus(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${kind}`;
  status.hidden = !text;
}

function describe(error) {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return String(error?.message ?? error);
}

const context = {
  api,
  /** The signed-in administrator's account. */
  me: null,
  notify: (text) => showStatus(text, "info"),
  fail: (error) => showStatus(describe(error), "error"),
  /** Members by id, for naming actors and hosts; refreshed per section. */
  // TODO(#4): only the first 500 members are named; beyond them ids show as #id.
  async accountNames() {
    const accounts = await api.get("/api/accounts", { limit: 500 });
    return new Map(accounts.map((a) => [a.id, a.account_name]));
  },
};

function showLogin(message) {
  $("app-view").hidden = true;
  $("whoami").hidden = true;
  $("login-view").hidden = false;
  const form = $("login-form");
  if (!form.elements.device_id.value) form.elements.device_id.value = deviceId();
  const error = $("login-error");
  error.textContent = message ?? "";
  error.hidden = !message;
}

async function showApp() {
  let me;
  try {
    me = await api.get("/api/me");
  } catch (error) {
    showLogin(error instanceof ApiError && error.status === 401 ? "" : describe(error));
    return;
  }
  if (!me.is_admin) {
    await api.logout().catch(() => {});
    showLogin("This account is not an administrator.");
    return;
  }
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("whoami").hidden = false;
  $("whoami-name").textContent = `${me.display_name} (${me.account_name})`;
  context.me = me;
  await renderSection();
}

async function renderSection() {
  if (!api.signedIn) return;
  const name = window.location.hash.slice(1) || "members";
  const section = SECTIONS[name] ?? members;
  for (const link of document.querySelectorAll("nav.tabs a")) {
    link.classList.toggle("active", link.dataset.view === name);
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = $("view");
  showStatus("");
  replace(view);
  view.dataset.section = name;
  view.setAttribute("aria-busy", "true");
  try {
    await section.render({ ...context, root: view });
  } catch (error) {
    context.fail(error);
  } finally {
    view.removeAttribute("aria-busy");
  }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api.login({
      organisation: form.elements.organisation.value.trim(),
      account_name: form.elements.account_name.value.trim(),
      password: form.elements.password.value,
      device_id: form.elements.device_id.value.trim(),
      device_name: "Admin console",
      platform: "web",
    });
    form.elements.password.value = "";
    await showApp();
  } catch (error) {
    showLogin(describe(error));
  } finally {
    button.disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  await api.logout().catch(() => {});
  showLogin("");
});

api.onSignedOut = () => showLogin("Your session ended; please sign in again.");
window.addEventListener("hashchange", renderSection);

if (api.signedIn) showApp();
else showLogin("");
