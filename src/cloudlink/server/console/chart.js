// Line charts of values over time, drawn as inline SVG (no libraries).
//
// lineChart({ title, unit, series, yMin, yMax }) returns an <figure> holding
// an <svg>: one polyline and one circle per point for each series, a value
// axis with four grid lines and the first and last time on the time axis.
// Every label is an SVG text node, set through textContent.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { left: 52, right: 16, top: 16, bottom: 30 };
const GRID_LINES = 4;
// Distinguishable for the common forms of colour blindness (Okabe-Ito).
export const COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"];

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= value);
  return step * power;
}

function formatNumber(value) {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toFixed(2)).toString();
}

/**
 * series: [{ name, points: [{ t: Date, v: number, label?: string }] }].
 * yMin defaults to 0, yMax to a round number above the largest value.
 */
export function lineChart({ id, title, unit, series, yMin = 0, yMax }) {
  const all = series.flatMap((s) => s.points);
  const figure = document.createElement("figure");
  figure.className = "chart";
  if (id) figure.id = id;
  const caption = document.createElement("figcaption");
  caption.textContent = unit ? `${title} (${unit})` : title;
  figure.appendChild(caption);

  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": `${title} over time`,
    preserveAspectRatio: "xMidYMid meet",
  });
  figure.appendChild(root);
  if (all.length === 0) {
    root.appendChild(
      svg(
        "text",
        { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "empty" },
        "No reports",
      ),
    );
    return figure;
  }

  // Scales: time on x (padded when every point has one time), values on y.
  let t0 = Math.min(...all.map((p) => p.t.getTime()));
  let t1 = Math.max(...all.map((p) => p.t.getTime()));
  if (t1 - t0 < 1000) {
    t0 -= 30_000;
    t1 += 30_000;
  }
  const top = yMax ?? niceCeiling(Math.max(...all.map((p) => p.v)) * 1.1);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t) => MARGIN.left + ((t.getTime() - t0) / (t1 - t0)) * plotWidth;
  const y = (v) => MARGIN.top + (1 - (Math.min(v, top) - yMin) / (top - yMin)) * plotHeight;

  // Grid and value labels.
  const grid = svg("g", { class: "grid" });
  for (let i = 0; i <= GRID_LINES; i += 1) {
    const value = yMin + ((top - yMin) * i) / GRID_LINES;
    const at = y(value);
    grid.appendChild(svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: at, y2: at }));
    grid.appendChild(
      svg("text", { x: MARGIN.left - 6, y: at + 4, "text-anchor": "end" }, formatNumber(value)),
    );
  }
  const bottom = HEIGHT - MARGIN.bottom + 18;
  grid.appendChild(svg("text", { x: MARGIN.left, y: bottom }, new Date(t0).toLocaleTimeString()));
  grid.appendChild(
    svg(
      "text",
      { x: WIDTH - MARGIN.right, y: bottom, "text-anchor": "end" },
      new Date(t1).toLocaleTimeString(),
    ),
  );
  root.appendChild(grid);

  // One line and its points per series.
  series.forEach((s, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const group = svg("g", { class: "series", "data-series": s.name });
    const sorted = [...s.points].sort((a, b) => a.t - b.t);
    group.appendChild(
      svg("polyline", {
        fill: "none",
        stroke: colour,
        "stroke-width": 2,
        points: sorted.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "),
      }),
    );
    for (const p of sorted) {
      const dot = svg("circle", {
        class: "point",
        cx: x(p.t).toFixed(1),
        cy: y(p.v).toFixed(1),
        r: 3.5,
        fill: colour,
      });
      dot.appendChild(
        svg(
          "title",
          {},
          `${s.name} ${formatNumber(p.v)}${unit ? ` ${unit}` : ""} at ${p.t.toLocaleString()}${p.label ? ` (${p.label})` : ""}`,
        ),
      );
      group.appendChild(dot);
    }
    root.appendChild(group);
  });

  // Legend.
  const legend = document.createElement("p");
  legend.className = "legend";
  series.forEach((s, index) => {
    const key = document.createElement("span");
    key.className = "key";
    key.style.setProperty("--key-colour", COLOURS[index % COLOURS.length]);
    key.textContent = `${s.name} (${s.points.length})`;
    legend.appendChild(key);
  });
  figure.appendChild(legend);
  return figure;
}
