// The quality dashboard: loss, jitter and MOS per meeting over time.
//
// The reports come from GET /api/telemetry/quality (oldest first); they are
// grouped by meeting here, and one meeting at a time is charted, a series
// per medium (audio, video).

import { lineChart } from "./chart.js";
import { h, replace, table, when } from "./dom.js";

const NO_MEETING = "(no meeting)";
// The most reports one request brings (the API's own limit).
const MAX_REPORTS = 10000;
const PERIODS = [
  ["1", "Last 24 hours"],
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
  ["", "Everything kept"],
];

function mean(values) {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function fixed(value, digits = 1) {
  return value === null ? "" : value.toFixed(digits);
}

function summarise(code, reports) {
  const mos = reports.map((r) => r.mos).filter((m) => m !== null);
  return {
    code,
    reports,
    first: reports[0].received_at,
    last: reports[reports.length - 1].received_at,
    loss: mean(reports.map((r) => r.loss_pct)),
    jitter: mean(reports.map((r) => r.jitter_ms)),
    mos: mean(mos),
    worstMos: mos.length ? Math.min(...mos) : null,
  };
}

function seriesOf(reports, field) {
  const byMedia = new Map();
  for (const report of reports) {
    const value = report[field];
    if (value === null || value === undefined) continue;
    if (!byMedia.has(report.media)) byMedia.set(report.media, []);
    byMedia.get(report.media).push({ t: new Date(report.received_at), v: value, label: report.device_id ?? "" });
  }
  return [...byMedia.entries()].map(([name, points]) => ({ name, points }));
}

export async function render(context) {
  const { api, root } = context;
  const overview = h("div", { id: "quality-overview" });
  const charts = h("div", { id: "quality-charts", class: "charts" });
  const period = h("select", { name: "period" }, PERIODS.map(([days, label]) => h("option", { value: days }, label)));
  period.value = "7";
  let selected = null;

  function draw(meeting) {
    selected = meeting.code;
    for (const row of overview.querySelectorAll("tr[data-meeting]")) {
      row.classList.toggle("selected", row.dataset.meeting === selected);
    }
    replace(
      charts,
      h("h3", {}, `Meeting ${meeting.code}: ${meeting.reports.length} reports`),
      lineChart({ id: "chart-loss", title: "Packet loss", unit: "%", series: seriesOf(meeting.reports, "loss_pct") }),
      lineChart({ id: "chart-jitter", title: "Jitter", unit: "ms", series: seriesOf(meeting.reports, "jitter_ms") }),
      lineChart({ id: "chart-mos", title: "MOS", unit: "", series: seriesOf(meeting.reports, "mos"), yMin: 1, yMax: 5 }),
    );
  }

  async function refresh() {
    const days = period.value;
    const since = days ? new Date(Date.now() - Number(days) * 86_400_000).toISOString().replace("Z", "+00:00") : undefined;
    const reports = await api.get("/api/telemetry/quality", { since, limit: MAX_REPORTS });
    // TODO(#4): the dashboard groups raw reports in the browser and sees at most
    // MAX_REPORTS of them; per-meeting aggregation on the server would scale further.
    const groups = new Map();
    for (const report of reports) {
      const code = report.meeting_code ?? NO_MEETING;
      if (!groups.has(code)) groups.set(code, []);
      groups.get(code).push(report);
    }
    const meetings = [...groups.entries()].map(([code, list]) => summarise(code, list));
    meetings.sort((a, b) => (a.last < b.last ? 1 : -1));
    replace(
      overview,
      reports.length >= MAX_REPORTS ? h("p", { class: "warning" }, `Showing the first ${MAX_REPORTS} reports only; choose a shorter period.`) : null,
      table(
        [
          { title: "Meeting", cell: (m) => m.code, class: "mono" },
          { title: "Reports", cell: (m) => m.reports.length, class: "num" },
          { title: "From", cell: (m) => when(m.first) },
          { title: "To", cell: (m) => when(m.last) },
          { title: "Mean loss %", cell: (m) => fixed(m.loss), class: "num" },
          { title: "Mean jitter ms", cell: (m) => fixed(m.jitter), class: "num" },
          { title: "Mean MOS", cell: (m) => fixed(m.mos, 2), class: "num" },
          { title: "Worst MOS", cell: (m) => fixed(m.worstMos, 2), class: "num" },
          { title: "", cell: (m) => h("button", { type: "button", onclick: () => draw(m) }, "Chart") },
        ],
        meetings,
        { empty: "No quality reports in this period.", rowAttributes: (m) => ({ dataset: { meeting: m.code } }) },
      ),
    );
    const keep = meetings.find((m) => m.code === selected) ?? meetings[0];
    if (keep) draw(keep);
    else replace(charts);
  }

  period.addEventListener("change", () => refresh().catch(context.fail));
  const reload = h("button", { type: "button", onclick: () => refresh().catch(context.fail) }, "Refresh");

  replace(
    root,
    h("h2", {}, "Call quality"),
    h("p", { class: "muted" }, "From the quality reports of members who allow their collection. ", period, " ", reload),
    overview,
    charts,
  );
  await refresh();
}
