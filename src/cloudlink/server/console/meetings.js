// Meetings: every meeting of the organisation, creating instant and scheduled ones, join links.

import { segment } from "./api.js";
import { formValues, h, replace, table, when } from "./dom.js";

/** A datetime-local value (browser time) as RFC 3339 in UTC. */
function toTimestamp(local) {
  return new Date(local).toISOString().replace("Z", "+00:00");
}

function joinLink(meeting) {
  const field = h("input", {
    class: "link",
    readonly: true,
    value: meeting.join_link,
    "aria-label": `Join link of ${meeting.code}`,
  });
  const copy = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        field.select();
        try {
          await navigator.clipboard.writeText(meeting.join_link);
        } catch {
          // Without clipboard permission the selected text can still be copied by hand.
        }
      },
    },
    "Copy",
  );
  return [field, " ", copy];
}

export async function render(context) {
  const { api, root } = context;
  const list = h("div", { id: "meeting-list" });
  const created = h("div", { id: "meeting-created" });
  const includeOver = h("input", { type: "checkbox", name: "include_over" });

  async function refresh() {
    const [all, names] = await Promise.all([
      api.get("/api/organisation/meetings", { limit: "500" }),
      context.accountNames(),
    ]);
    // Meetings that are over (ended, cancelled) only when asked for.
    const meetings = includeOver.checked
      ? all
      : all.filter((m) => m.status === "scheduled" || m.status === "active");
    replace(
      list,
      table(
        [
          { title: "Id", cell: (m) => m.code, class: "mono" },
          { title: "Topic", cell: (m) => m.topic },
          { title: "Kind", cell: (m) => m.kind },
          { title: "Status", cell: (m) => m.status },
          { title: "Starts", cell: (m) => when(m.starts_at) },
          { title: "Minutes", cell: (m) => m.duration_min, class: "num" },
          { title: "Repeats", cell: (m) => (m.recurrence === "none" ? "" : m.recurrence) },
          { title: "Host", cell: (m) => names.get(m.host_account_id) ?? "" },
          { title: "Join link", cell: joinLink, class: "nowrap" },
          {
            title: "",
            cell: (m) =>
              m.host_account_id === context.me.id &&
              (m.status === "scheduled" || m.status === "active")
                ? h(
                    "button",
                    { type: "button", class: "danger", onclick: () => cancel(m) },
                    "Cancel",
                  )
                : "",
          },
        ],
        meetings,
        { empty: "No meetings.", rowAttributes: (m) => ({ dataset: { code: m.code } }) },
      ),
    );
  }

  async function cancel(meeting) {
    if (!window.confirm(`Cancel meeting ${meeting.code} (${meeting.topic})?`)) return;
    try {
      await api.delete(`/api/meetings/${segment(meeting.code)}`);
      await refresh();
    } catch (error) {
      context.fail(error);
    }
  }

  const startsAt = h("input", { type: "datetime-local", name: "starts_at" });
  const kind = h(
    "select",
    { name: "kind" },
    h("option", { value: "instant" }, "Instant (starts now)"),
    h("option", { value: "scheduled" }, "Scheduled"),
  );
  const schedule = h(
    "fieldset",
    { hidden: true },
    h("legend", {}, "Schedule"),
    h("label", {}, "Starts ", startsAt),
    h(
      "label",
      {},
      "Minutes ",
      h("input", { type: "number", name: "duration_min", min: 1, max: 1440, value: "60" }),
    ),
    h(
      "label",
      {},
      "Repeats ",
      h(
        "select",
        { name: "recurrence" },
        ["none", "daily", "weekly", "monthly"].map((r) => h("option", { value: r }, r)),
      ),
    ),
    h(
      "label",
      {},
      "Occurrences ",
      h("input", { type: "number", name: "recurrence_count", min: 1, max: 1000 }),
    ),
  );
  kind.addEventListener("change", () => {
    schedule.hidden = kind.value !== "scheduled";
    startsAt.required = kind.value === "scheduled";
  });

  const form = h(
    "form",
    { id: "create-meeting", class: "grid", "aria-label": "Create meeting" },
    h("label", {}, "Topic ", h("input", { name: "topic", required: true, maxlength: 200 })),
    h("label", {}, "Kind ", kind),
    schedule,
    h(
      "label",
      {},
      "Meeting password ",
      h("input", {
        name: "password",
        type: "password",
        minlength: 4,
        maxlength: 64,
        autocomplete: "off",
      }),
    ),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "waiting_room" }),
      " Waiting room",
    ),
    h("button", { type: "submit" }, "Create meeting"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { topic: values.topic, kind: values.kind, waiting_room: values.waiting_room };
    if (values.password) body.password = values.password;
    if (values.kind === "scheduled") {
      body.starts_at = toTimestamp(values.starts_at);
      if (values.duration_min) body.duration_min = values.duration_min;
      body.recurrence = values.recurrence;
      if (values.recurrence !== "none" && values.recurrence_count) {
        body.recurrence_count = values.recurrence_count;
      }
    }
    try {
      const meeting = await api.post("/api/meetings", body);
      form.reset();
      schedule.hidden = true;
      replace(
        created,
        h(
          "div",
          { class: "card ok" },
          h("h3", {}, `Meeting ${meeting.code} created`),
          h(
            "p",
            {},
            "Join link: ",
            h(
              "a",
              {
                id: "created-join-link",
                href: meeting.join_link,
                rel: "noopener noreferrer",
                target: "_blank",
              },
              meeting.join_link,
            ),
          ),
        ),
      );
      await refresh();
    } catch (error) {
      context.fail(error);
    }
  });
  includeOver.addEventListener("change", () => refresh().catch(context.fail));

  replace(
    root,
    h("h2", {}, "Meetings"),
    h(
      "p",
      { class: "muted" },
      "Every meeting of the organisation, the latest start first. Only a meeting's host can cancel it.",
    ),
    h("label", { class: "check" }, includeOver, " Include ended and cancelled meetings"),
    list,
    created,
    h("div", { class: "card" }, h("h3", {}, "Create a meeting"), form),
  );
  await refresh();
}
