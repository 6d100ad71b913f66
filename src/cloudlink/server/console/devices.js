// Devices: every member's devices, and signing one out.

import { segment } from "./api.js";
import { h, replace, table, when } from "./dom.js";

export async function render(context) {
  const { api, root } = context;
  const list = h("div", { id: "device-list" });

  async function refresh() {
    const accounts = await api.get("/api/accounts", { limit: 500 });
    // TODO(#4): one request per member; an organisation-wide device listing would
    // make this one request for large organisations.
    const perAccount = await Promise.all(
      accounts.map(async (account) => {
        const devices = await api.get(`/api/accounts/${segment(account.id)}/devices`);
        return devices.map((device) => ({ account, device }));
      }),
    );
    const rows = perAccount.flat();
    replace(
      list,
      table(
        [
          { title: "Member", cell: (r) => r.account.account_name },
          { title: "Device id", cell: (r) => r.device.device_id, class: "mono" },
          { title: "Name", cell: (r) => r.device.name ?? "" },
          { title: "Platform", cell: (r) => r.device.platform ?? "" },
          { title: "Client", cell: (r) => r.device.client_version ?? "" },
          { title: "Last seen", cell: (r) => when(r.device.last_seen_at) },
          { title: "Network", cell: (r) => r.device.ip_prefix ?? "" },
          { title: "Signed in", cell: (r) => (r.device.signed_in ? "yes" : "no") },
          {
            title: "",
            cell: (r) =>
              r.device.signed_in
                ? h(
                    "button",
                    { type: "button", class: "danger", onclick: () => signOut(r) },
                    "Sign out",
                  )
                : "",
          },
        ],
        rows,
        { empty: "No devices have signed in yet." },
      ),
    );
  }

  async function signOut({ account, device }) {
    try {
      await api.delete(`/api/accounts/${segment(account.id)}/devices/${segment(device.device_id)}`);
      context.notify(`Signed out ${device.device_id} of ${account.account_name}.`);
      await refresh();
    } catch (error) {
      context.fail(error);
    }
  }

  replace(root, h("h2", {}, "Devices"), list);
  await refresh();
}
