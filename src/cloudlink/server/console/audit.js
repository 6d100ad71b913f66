// The audit log of administrator actions, newest first, a page at a time.

import { h, replace, table, when } from "./dom.js";

const PAGE_SIZE = 50;

function describeDetails(details) {
  const entries = Object.entries(details ?? {});
  return entries.map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(", ");
}

export async function render(context) {
  const { api, root } = context;
  const list = h("div", { id: "audit-list" });
  const pager = h("p", { class: "pager" });
  let offset = 0;

  async function refresh() {
    const [entries, names] = await Promise.all([
      api.get("/api/audit", { limit: PAGE_SIZE, offset }),
      context.accountNames(),
    ]);
    const target = (e) => {
      if (!e.target_type) return "";
      const name = e.target_type === "account" ? names.get(e.target_id) : undefined;
      return name ? `${e.target_type} ${name}` : `${e.target_type} #${e.target_id}`;
    };
    replace(
      list,
      table(
        [
          { title: "When", cell: (e) => when(e.at) },
          {
            title: "Administrator",
            cell: (e) =>
              names.get(e.actor_account_id) ??
              (e.actor_account_id === null ? "" : `#${e.actor_account_id}`),
          },
          { title: "Action", cell: (e) => e.action, class: "mono" },
          { title: "Target", cell: target },
          { title: "Details", cell: (e) => describeDetails(e.details) },
        ],
        entries,
        {
          empty: "No administrator actions recorded.",
          rowAttributes: (e) => ({ dataset: { action: e.action } }),
        },
      ),
    );
    replace(
      pager,
      h(
        "button",
        { type: "button", disabled: offset === 0, onclick: () => move(-PAGE_SIZE) },
        "Newer",
      ),
      ` entries ${offset + 1}–${offset + entries.length} `,
      h(
        "button",
        { type: "button", disabled: entries.length < PAGE_SIZE, onclick: () => move(PAGE_SIZE) },
        "Older",
      ),
    );
  }

  function move(delta) {
    offset = Math.max(0, offset + delta);
    refresh().catch(context.fail);
  }

  replace(root, h("h2", {}, "Audit log"), list, pager);
  await refresh();
}
