// The address book: the organisation directory and the administrator's own contacts.

import { segment } from "./api.js";
import { formValues, h, replace, table, when, withoutEmpty } from "./dom.js";

export async function render(context) {
  const { api, root } = context;
  const results = h("div", { id: "directory-results" });
  const contacts = h("div", { id: "contact-list" });
  const query = h("input", {
    type: "search",
    name: "q",
    placeholder: "Name, phone or email",
    maxlength: 100,
  });

  async function search() {
    const entries = await api.get("/api/directory", { q: query.value.trim(), limit: 100 });
    replace(
      results,
      table(
        [
          { title: "Account", cell: (e) => e.account_name },
          { title: "Name", cell: (e) => e.display_name },
          { title: "Mobile", cell: (e) => e.mobile ?? "" },
          { title: "Email", cell: (e) => e.email ?? "" },
          {
            title: "",
            cell: (e) =>
              h(
                "button",
                {
                  type: "button",
                  onclick: () =>
                    addContact(
                      withoutEmpty({
                        display_name: e.display_name,
                        mobile: e.mobile,
                        email: e.email,
                        member_account_id: e.id,
                      }),
                    ),
                },
                "Add to my contacts",
              ),
          },
        ],
        entries,
        { empty: "No one in the directory matches." },
      ),
    );
  }

  async function addContact(fields) {
    try {
      const contact = await api.post("/api/me/contacts", fields);
      context.notify(`Added contact ${contact.display_name}.`);
      await listContacts();
    } catch (error) {
      context.fail(error);
    }
  }

  async function editContact(contact) {
    const name = window.prompt("Display name", contact.display_name);
    if (name === null || name.trim() === "" || name.trim() === contact.display_name) return;
    try {
      await api.patch(`/api/me/contacts/${segment(contact.id)}`, { display_name: name.trim() });
      await listContacts();
    } catch (error) {
      context.fail(error);
    }
  }

  async function deleteContact(contact) {
    try {
      await api.delete(`/api/me/contacts/${segment(contact.id)}`);
      context.notify(`Deleted contact ${contact.display_name}.`);
      await listContacts();
    } catch (error) {
      context.fail(error);
    }
  }

  async function listContacts() {
    const found = await api.get("/api/me/contacts");
    replace(
      contacts,
      table(
        [
          { title: "Name", cell: (c) => c.display_name },
          { title: "Mobile", cell: (c) => c.mobile ?? "" },
          { title: "Email", cell: (c) => c.email ?? "" },
          { title: "Note", cell: (c) => c.note ?? "" },
          { title: "Changed", cell: (c) => when(c.updated_at) },
          {
            title: "",
            cell: (c) => [
              h("button", { type: "button", onclick: () => editContact(c) }, "Rename"),
              " ",
              h(
                "button",
                { type: "button", class: "danger", onclick: () => deleteContact(c) },
                "Delete",
              ),
            ],
          },
        ],
        found,
        { empty: "No personal contacts." },
      ),
    );
  }

  const searchForm = h(
    "form",
    { class: "inline", role: "search", id: "directory-search" },
    query,
    h("button", { type: "submit" }, "Search directory"),
  );
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    search().catch(context.fail);
  });

  const add = h(
    "form",
    { class: "grid", "aria-label": "Add contact" },
    h("label", {}, "Name ", h("input", { name: "display_name", required: true, maxlength: 100 })),
    h("label", {}, "Mobile ", h("input", { name: "mobile", maxlength: 32 })),
    h("label", {}, "Email ", h("input", { name: "email", type: "email", maxlength: 254 })),
    h("label", {}, "Note ", h("input", { name: "note", maxlength: 500 })),
    h("button", { type: "submit" }, "Add contact"),
  );
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    await addContact(withoutEmpty(formValues(add)));
    add.reset();
  });

  replace(
    root,
    h("h2", {}, "Organisation directory"),
    searchForm,
    results,
    h("h2", {}, "My contacts"),
    contacts,
    h("div", { class: "card" }, h("h3", {}, "Add a contact"), add),
  );
  await Promise.all([search(), listContacts()]);
}
