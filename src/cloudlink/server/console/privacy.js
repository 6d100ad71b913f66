// Privacy defaults, retention periods and the device policy of the organisation.

import { h, replace } from "./dom.js";

const DEFAULTS = [
  [
    "default_collect_quality",
    "Collect audiovisual quality data (loss, jitter, MOS) unless a member opts out",
  ],
  [
    "default_collect_events",
    "Collect event logs (errors, crashes, restarts, upgrades) unless a member opts out",
  ],
];
const RETENTION = [
  ["retention_quality_days", "Quality reports"],
  ["retention_events_days", "Client events"],
  ["retention_feedback_days", "Problem feedback and log files"],
  ["retention_sessions_days", "Ended sessions"],
  ["retention_meetings_days", "Meeting history"],
  ["retention_audit_days", "Audit log"],
];
const POLICY = [
  ["max_devices_per_account", "Devices signed in per member", 1, 100],
  ["session_lifetime_s", "Session lifetime (seconds)", 300, 365 * 86400],
];

export async function render(context) {
  const { api, root } = context;
  const organisation = await api.get("/api/organisation");

  const checks = DEFAULTS.map(([key, label]) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: key, checked: organisation[key] }),
      ` ${label}`,
    ),
  );
  const number = (key, label, low, high) =>
    h(
      "label",
      {},
      `${label} `,
      h("input", {
        type: "number",
        name: key,
        min: low,
        max: high,
        step: 1,
        required: true,
        value: String(organisation[key]),
      }),
    );

  const form = h(
    "form",
    { id: "privacy-form", "aria-label": "Privacy defaults" },
    h("fieldset", {}, h("legend", {}, "Collection defaults"), checks),
    h(
      "fieldset",
      { class: "grid" },
      h("legend", {}, "Retention (days)"),
      RETENTION.map(([key, label]) => number(key, label, 1, 3650)),
    ),
    h(
      "fieldset",
      { class: "grid" },
      h("legend", {}, "Devices and sessions"),
      POLICY.map((p) => number(...p)),
    ),
    h("button", { type: "submit" }, "Save"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = {};
    for (const control of form.elements) {
      if (!control.name) continue;
      const value = control.type === "checkbox" ? control.checked : Number(control.value);
      if (value !== organisation[control.name]) changes[control.name] = value;
    }
    if (Object.keys(changes).length === 0) return context.notify("Nothing changed.");
    try {
      const updated = await api.patch("/api/organisation", changes);
      Object.assign(organisation, updated);
      context.notify(`Saved: ${Object.keys(changes).join(", ")}.`);
    } catch (error) {
      context.fail(error);
    }
  });

  const purge = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          const counts = await api.post("/api/privacy/purge");
          const removed = Object.entries(counts)
            .map(([kind, n]) => `${kind} ${n}`)
            .join(", ");
          context.notify(`Purge removed: ${removed || "nothing"}.`);
        } catch (error) {
          context.fail(error);
        }
      },
    },
    "Purge expired data now",
  );

  replace(
    root,
    h("h2", {}, `Privacy and retention of ${organisation.name}`),
    h(
      "p",
      { class: "muted" },
      "Members may override the collection defaults in their own settings (an administrator can, for one member, under Members). Data older than its retention period is deleted hourly.",
    ),
    form,
    h("p", {}, purge),
  );
}
