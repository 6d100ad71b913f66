// Building DOM nodes without markup strings: text always goes in as text.
//
// h("td", { class: "num" }, value) makes <td class="num"> holding value as a
// text node, so names, numbers and messages from the API can never become
// markup. Attributes starting with "on" become event listeners; "value",
// "checked", "disabled" and "hidden" are set as properties.

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "selected"]);

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (PROPERTIES.has(name)) {
      element[name] = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children: nodes as they are, anything else as text; arrays flatten. */
export function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

/** Removes every child of ``element`` and appends ``children``. */
export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

/** A table with a header row and one row per item (cells from ``columns``). */
export function table(columns, items, { empty = "Nothing yet.", rowAttributes } = {}) {
  if (items.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((c) => h("th", { scope: "col" }, c.title)),
      ),
    ),
    h(
      "tbody",
      {},
      items.map((item) =>
        h(
          "tr",
          rowAttributes ? rowAttributes(item) : {},
          columns.map((c) => h("td", { class: c.class }, c.cell(item))),
        ),
      ),
    ),
  );
}

/** The values of a form's named controls; checkboxes as booleans, numbers as numbers. */
export function formValues(form) {
  const values = {};
  for (const control of form.elements) {
    if (!control.name) continue;
    if (control.type === "checkbox") values[control.name] = control.checked;
    else if (control.type === "number")
      values[control.name] = control.value === "" ? null : Number(control.value);
    else values[control.name] = control.value.trim();
  }
  return values;
}

/** A timestamp from the API in the browser's local time. */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** ``fields`` without the empty strings (optional API fields are left out). */
export function withoutEmpty(fields) {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== "" && v !== null));
}
