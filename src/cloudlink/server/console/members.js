// Members: list and search, add, modify, reset a password, cancel.

import { segment } from "./api.js";
import { formValues, h, replace, table, when, withoutEmpty } from "./dom.js";

export async function render(context) {
  const { api, root } = context;
  const list = h("div", { id: "member-list" });
  const detail = h("div", { id: "member-detail" });
  const search = h("input", {
    type: "search",
    name: "q",
    placeholder: "Search name, phone, email",
    maxlength: 100,
  });

  async function refresh() {
    const accounts = await api.get("/api/accounts", { q: search.value.trim(), limit: 500 });
    replace(
      list,
      table(
        [
          { title: "Account", cell: (a) => a.account_name },
          { title: "Name", cell: (a) => a.display_name },
          { title: "Mobile", cell: (a) => a.mobile ?? "" },
          { title: "Email", cell: (a) => a.email ?? "" },
          { title: "Role", cell: (a) => (a.is_admin ? "administrator" : "member") },
          { title: "Locked", cell: (a) => (a.locked ? "yes" : "") },
          {
            title: "",
            cell: (a) => h("button", { type: "button", onclick: () => showDetail(a) }, "Manage"),
          },
        ],
        accounts,
        {
          empty: "No members match.",
          rowAttributes: (a) => ({ dataset: { account: a.account_name } }),
        },
      ),
    );
  }

  function showDetail(account) {
    const edit = h(
      "form",
      { class: "grid", "aria-label": "Modify member" },
      h(
        "label",
        {},
        "Display name ",
        h("input", {
          name: "display_name",
          value: account.display_name,
          required: true,
          maxlength: 100,
        }),
      ),
      h(
        "label",
        {},
        "Mobile ",
        h("input", { name: "mobile", value: account.mobile ?? "", maxlength: 32 }),
      ),
      h(
        "label",
        {},
        "Email ",
        h("input", { name: "email", type: "email", value: account.email ?? "", maxlength: 254 }),
      ),
      h(
        "label",
        { class: "check" },
        h("input", { name: "is_admin", type: "checkbox", checked: account.is_admin }),
        " Administrator",
      ),
      h("button", { type: "submit" }, "Save changes"),
    );
    edit.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = formValues(edit);
      const changes = {};
      if (values.display_name !== account.display_name) changes.display_name = values.display_name;
      if (values.mobile !== (account.mobile ?? "")) changes.mobile = values.mobile || null;
      if (values.email !== (account.email ?? "")) changes.email = values.email || null;
      if (values.is_admin !== account.is_admin) changes.is_admin = values.is_admin;
      if (Object.keys(changes).length === 0) return context.notify("Nothing changed.");
      try {
        const updated = await api.patch(`/api/accounts/${segment(account.id)}`, changes);
        context.notify(`Saved ${updated.account_name}.`);
        await refresh();
        showDetail(updated);
      } catch (error) {
        context.fail(error);
      }
    });

    const reset = h(
      "form",
      { class: "inline", "aria-label": "Set password" },
      h(
        "label",
        {},
        "New password ",
        h("input", {
          name: "new_password",
          type: "password",
          required: true,
          autocomplete: "new-password",
        }),
      ),
      h("button", { type: "submit" }, "Set password"),
    );
    reset.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api.post(`/api/accounts/${segment(account.id)}/password`, {
          new_password: reset.elements.new_password.value,
        });
        reset.reset();
        context.notify(`Password of ${account.account_name} set; its sessions ended.`);
      } catch (error) {
        context.fail(error);
      }
    });

    const cancel = h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: async () => {
          const question = `Cancel ${account.account_name}? Their personal data is deleted or anonymised everywhere.`;
          if (!window.confirm(question)) return;
          try {
            await api.delete(`/api/accounts/${segment(account.id)}`);
            context.notify(`Cancelled ${account.account_name}.`);
            replace(detail);
            await refresh();
          } catch (error) {
            context.fail(error);
          }
        },
      },
      "Cancel account",
    );

    const privacy = h("div", { id: "member-privacy" });
    replace(
      detail,
      h(
        "div",
        { class: "card" },
        h("h3", {}, `Member ${account.account_name}`),
        h(
          "p",
          { class: "muted" },
          `Added ${when(account.created_at)}, changed ${when(account.updated_at)}`,
        ),
        edit,
        reset,
        privacy,
        h("p", {}, h("a", { href: "#devices" }, "Devices"), " · ", cancel),
      ),
    );
    showPrivacy(account, privacy).catch(context.fail);
  }

  // A member's collection settings, restriction of processing and data export:
  // data-subject requests that reach the administrator by other channels.
  async function showPrivacy(account, into) {
    const path = `/api/accounts/${segment(account.id)}`;
    const current = await api.get(`${path}/privacy`);
    const choice = (name, label) => {
      const select = h(
        "select",
        { name },
        h("option", { value: "default" }, "organisation default"),
        h("option", { value: "on" }, "collect"),
        h("option", { value: "off" }, "do not collect"),
      );
      select.value = current[name] === null ? "default" : current[name] ? "on" : "off";
      return h("label", {}, `${label} `, select);
    };
    const effect = h(
      "p",
      { class: "muted" },
      `Now collected: quality data ${current.quality_collected ? "yes" : "no"}, event logs ${current.events_collected ? "yes" : "no"}.`,
    );
    const form = h(
      "form",
      { class: "grid", "aria-label": "Member privacy" },
      choice("collect_quality", "Quality data"),
      choice("collect_events", "Event logs"),
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          name: "processing_restricted",
          checked: current.processing_restricted,
        }),
        " Processing restricted",
      ),
      h("button", { type: "submit" }, "Save privacy"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = (name) => ({ default: null, on: true, off: false })[form.elements[name].value];
      try {
        await api.patch(`${path}/privacy`, {
          collect_quality: value("collect_quality"),
          collect_events: value("collect_events"),
          processing_restricted: form.elements.processing_restricted.checked,
        });
        context.notify(`Privacy settings of ${account.account_name} saved.`);
        await showPrivacy(account, into);
      } catch (error) {
        context.fail(error);
      }
    });
    const exportButton = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            const data = await api.get(`${path}/export`);
            const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
            const link = h("a", {
              href: URL.createObjectURL(blob),
              download: `cloudlink-export-${account.account_name}.json`,
            });
            link.click();
            setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
            context.notify(`Exported the data of ${account.account_name}.`);
          } catch (error) {
            context.fail(error);
          }
        },
      },
      "Export all data (JSON)",
    );
    replace(into, h("h4", {}, "Privacy"), effect, form, h("p", {}, exportButton));
  }

  const add = h(
    "form",
    { id: "add-member", class: "grid", "aria-label": "Add member" },
    h("label", {}, "Account ", h("input", { name: "account_name", required: true, maxlength: 64 })),
    h(
      "label",
      {},
      "Display name ",
      h("input", { name: "display_name", required: true, maxlength: 100 }),
    ),
    h(
      "label",
      {},
      "Initial password ",
      h("input", {
        name: "password",
        type: "password",
        required: true,
        autocomplete: "new-password",
      }),
    ),
    h("label", {}, "Mobile ", h("input", { name: "mobile", maxlength: 32 })),
    h("label", {}, "Email ", h("input", { name: "email", type: "email", maxlength: 254 })),
    h(
      "label",
      { class: "check" },
      h("input", { name: "is_admin", type: "checkbox" }),
      " Administrator",
    ),
    h("button", { type: "submit" }, "Add member"),
  );
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const account = await api.post("/api/accounts", withoutEmpty(formValues(add)));
      add.reset();
      context.notify(`Added ${account.account_name}.`);
      await refresh();
    } catch (error) {
      context.fail(error);
    }
  });

  const searchForm = h(
    "form",
    { class: "inline", role: "search" },
    search,
    h("button", { type: "submit" }, "Search"),
  );
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh().catch(context.fail);
  });

  replace(
    root,
    h("h2", {}, "Members"),
    searchForm,
    list,
    detail,
    h("div", { class: "card" }, h("h3", {}, "Add a member"), add),
  );
  await refresh();
}
