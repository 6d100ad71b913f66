// The quality dashboard: loss, jitter and MOS per meeting over time.
//
// The overview lists meetings with their reports summarised by the server
// (GET /api/dashboard/quality); the chosen meeting's reports themselves
// (GET /api/telemetry/quality?meeting_code=...) are charted over time, a
// series per medium (audio, video).

import { lineChart } from "./chart.js";
import { h, replace, table, when } from "./dom.js";

// The most reports of one meeting a chart shows (the API's own limit).
const MAX_REPORTS = 10000;
const PERIODS = [
  ["1", "Last 24 hours"],
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
  ["", "Everything kept"],
];

function fixed(value, digits = 1) {
  return value === null || value === undefined ? "" : value.toFixed(digits);
}

function seriesOf(reports, field) {
  const byMedia = new Map();
  for (const report of reports) {
    const value = report[field];
    if (value === null || value === undefined) continue;
    if (!byMedia.has(report.media)) byMedia.set(report.media, []);
    byMedia
      .get(report.media)
      .push({ t: new Date(report.received_at), v: value, label: report.device_id ?? "" });
  }
  return [...byMedia.entries()].map(([name, points]) => ({ name, points }));
}

export async function render(context) {
  const { api, root } = context;
  const overview = h("div", { id: "quality-overview" });
  const charts = h("div", { id: "quality-charts", class: "charts" });
  const period = h(
    "select",
    { name: "period" },
    PERIODS.map(([days, label]) => h("option", { value: days }, label)),
  );
  period.value = "7";
  let selected = null;

  function since() {
    const days = period.value;
    if (!days) return undefined;
    return new Date(Date.now() - Number(days) * 86_400_000).toISOString().replace("Z", "+00:00");
  }

  async function draw(meeting) {
    selected = meeting.meeting_code;
    for (const row of overview.querySelectorAll("tr[data-meeting]")) {
      row.classList.toggle("selected", row.dataset.meeting === selected);
    }
    const reports = await api.get("/api/telemetry/quality", {
      meeting_code: meeting.meeting_code,
      since: since(),
      limit: MAX_REPORTS,
    });
    replace(
      charts,
      h(
        "h3",
        {},
        `Meeting ${meeting.meeting_code} (${meeting.topic ?? ""}): ${reports.length} reports`,
      ),
      reports.length >= MAX_REPORTS
        ? h(
            "p",
            { class: "warning" },
            `Showing the first ${MAX_REPORTS} reports only; choose a shorter period.`,
          )
        : null,
      lineChart({
        id: "chart-loss",
        title: "Packet loss",
        unit: "%",
        series: seriesOf(reports, "loss_pct"),
      }),
      lineChart({
        id: "chart-jitter",
        title: "Jitter",
        unit: "ms",
        series: seriesOf(reports, "jitter_ms"),
      }),
      lineChart({
        id: "chart-mos",
        title: "MOS",
        unit: "",
        series: seriesOf(reports, "mos"),
        yMin: 1,
        yMax: 5,
      }),
    );
  }

  async function refresh() {
    const meetings = await api.get("/api/dashboard/quality", { since: since() });
    replace(
      overview,
      table(
        [
          { title: "Meeting", cell: (m) => m.meeting_code ?? "(outside meetings)", class: "mono" },
          { title: "Topic", cell: (m) => m.topic ?? "" },
          { title: "Reports", cell: (m) => m.reports, class: "num" },
          { title: "From", cell: (m) => when(m.first_at) },
          { title: "To", cell: (m) => when(m.last_at) },
          { title: "Mean loss %", cell: (m) => fixed(m.mean_loss_pct), class: "num" },
          { title: "Mean jitter ms", cell: (m) => fixed(m.mean_jitter_ms), class: "num" },
          { title: "Mean RTT ms", cell: (m) => fixed(m.mean_rtt_ms, 0), class: "num" },
          { title: "Mean MOS", cell: (m) => fixed(m.mean_mos, 2), class: "num" },
          { title: "Worst MOS", cell: (m) => fixed(m.min_mos, 2), class: "num" },
          {
            title: "",
            // TODO(#4): reports sent outside a meeting are summarised but cannot be charted:
            // GET /api/telemetry/quality has no filter for "no meeting".
            cell: (m) =>
              m.meeting_code === null
                ? ""
                : h(
                    "button",
                    { type: "button", onclick: () => draw(m).catch(context.fail) },
                    "Chart",
                  ),
          },
        ],
        meetings,
        {
          empty: "No quality reports in this period.",
          rowAttributes: (m) =>
            m.meeting_code === null ? {} : { dataset: { meeting: m.meeting_code } },
        },
      ),
    );
    const chartable = meetings.filter((m) => m.meeting_code !== null);
    const keep = chartable.find((m) => m.meeting_code === selected) ?? chartable[0];
    if (keep) await draw(keep);
    else replace(charts);
  }

  period.addEventListener("change", () => refresh().catch(context.fail));
  const reload = h(
    "button",
    { type: "button", onclick: () => refresh().catch(context.fail) },
    "Refresh",
  );

  replace(
    root,
    h("h2", {}, "Call quality"),
    h(
      "p",
      { class: "muted" },
      "From the quality reports of members who allow their collection. ",
      period,
      " ",
      reload,
    ),
    overview,
    charts,
  );
  await refresh();
}
