// Members: list and search, add, modify, reset a password, cancel.

import { segment } from "./api.js";
import { formValues, h, replace, table, when, withoutEmpty } from "./dom.js";

export async function render(context) {
  const { api, root } = context;
  const list = h("div", { id: "member-list" });
  const detail = h("div", { id: "member-detail" });
  const search = h("input", { type: "search", name: "q", placeholder: "Search name, phone, email", maxlength: 100 });

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
        { empty: "No members match.", rowAttributes: (a) => ({ dataset: { account: a.account_name } }) },
      ),
    );
  }

  function showDetail(account) {
    const edit = h(
      "form",
      { class: "grid", "aria-label": "Modify member" },
      h("label", {}, "Display name ", h("input", { name: "display_name", value: account.display_name, required: true, maxlength: 100 })),
      h("label", {}, "Mobile ", h("input", { name: "mobile", value: account.mobile ?? "", maxlength: 32 })),
      h("label", {}, "Email ", h("input", { name: "email", type: "email", value: account.email ?? "", maxlength: 254 })),
      h("label", { class: "check" }, h("input", { name: "is_admin", type: "checkbox", checked: account.is_admin }), " Administrator"),
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
      h("label", {}, "New password ", h("input", { name: "new_password", type: "password", required: true, autocomplete: "new-password" })),
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

    replace(
      detail,
      h(
        "div",
        { class: "card" },
        h("h3", {}, `Member ${account.account_name}`),
        h("p", { class: "muted" }, `Added ${when(account.created_at)}, changed ${when(account.updated_at)}`),
        edit,
        reset,
        h("p", {}, h("a", { href: "#devices" }, "Devices"), " · ", cancel),
      ),
    );
  }

  const add = h(
    "form",
    { id: "add-member", class: "grid", "aria-label": "Add member" },
    h("label", {}, "Account ", h("input", { name: "account_name", required: true, maxlength: 64 })),
    h("label", {}, "Display name ", h("input", { name: "display_name", required: true, maxlength: 100 })),
    h("label", {}, "Initial password ", h("input", { name: "password", type: "password", required: true, autocomplete: "new-password" })),
    h("label", {}, "Mobile ", h("input", { name: "mobile", maxlength: 32 })),
    h("label", {}, "Email ", h("input", { name: "email", type: "email", maxlength: 254 })),
    h("label", { class: "check" }, h("input", { name: "is_admin", type: "checkbox" }), " Administrator"),
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

  const searchForm = h("form", { class: "inline", role: "search" }, search, h("button", { type: "submit" }, "Search"));
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
