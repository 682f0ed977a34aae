/* siting app: DOM helpers (text only: data never goes through innerHTML), formatting, API calls. */
"use strict";
const LANG = (new URLSearchParams(location.search).get("lang") === "en") ? "en" : "es";
document.documentElement.lang = LANG;

function t(key, vars) {
  let s = (I18N[LANG] && I18N[LANG][key]) || I18N.es[key] || key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

/* el("td", {class: "x", onclick: fn}, "text", childNode, ...): strings become text nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "value") node.value = v;
    else if (k === "checked") node.checked = !!v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

const NUM = new Intl.NumberFormat(LANG === "es" ? "es-PE" : "en-US", {maximumFractionDigits: 0});
const DEC = new Intl.NumberFormat(LANG === "es" ? "es-PE" : "en-US", {maximumFractionDigits: 1, minimumFractionDigits: 1});
function fmt(v) { return (v === null || v === undefined || Number.isNaN(v)) ? "–" : NUM.format(v); }
function fmt1(v) { return (v === null || v === undefined || Number.isNaN(v)) ? "–" : DEC.format(v); }
function pct(v) { return (v === null || v === undefined) ? "–" : DEC.format(100 * v) + " %"; }

async function api(path, options) {
  const opts = Object.assign({headers: {}}, options || {});
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const sep = path.includes("?") ? "&" : "?";
  const res = await fetch(path + sep + "lang=" + LANG, opts);
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.detail) ? String(body.detail) : ("HTTP " + res.status));
    err.status = res.status;
    throw err;
  }
  return body;
}

/* A sortable table: columns [{key, label, text?: bool, fmt?: fn, render?: fn(row) -> node|string}]. */
function sortableTable(columns, rows, opts) {
  opts = opts || {};
  const state = {key: opts.sortKey || null, dir: opts.sortDir || -1};
  const table = el("table", {class: "data", "data-count": rows.length});
  if (opts.id) table.id = opts.id;
  const thead = el("thead"), tbody = el("tbody"), tfoot = el("tfoot");
  table.append(thead, tbody, tfoot);
  const headRow = el("tr");
  columns.forEach(c => {
    const th = el("th", {class: c.text ? "text" : "", title: c.title || null, "data-key": c.key}, c.label);
    th.addEventListener("click", () => {
      state.dir = (state.key === c.key) ? -state.dir : (c.text ? 1 : -1);
      state.key = c.key;
      draw();
    });
    headRow.appendChild(th);
  });
  thead.appendChild(headRow);
  function cell(c, r) {
    const v = r[c.key];
    const content = c.render ? c.render(r) : (c.fmt ? c.fmt(v) : (c.text ? (v === null || v === undefined ? "" : String(v)) : fmt(v)));
    return el("td", {class: (c.text ? "text " : "") + (c.cls || "")}, content);
  }
  function draw() {
    clear(tbody);
    const sorted = rows.slice();
    if (state.key) {
      const col = columns.find(c => c.key === state.key);
      const val = col && col.sortValue ? col.sortValue : (r => r[state.key]);
      sorted.sort((a, b) => {
        const x = val(a), y = val(b);
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (typeof x === "string" ? x.localeCompare(y, LANG) : (x < y ? -1 : 1)) * state.dir;
      });
    }
    for (const r of sorted) {
      const tr = el("tr", {class: opts.onRowClick ? "clickable" : ""}, columns.map(c => cell(c, r)));
      if (opts.onRowClick) tr.addEventListener("click", () => opts.onRowClick(r));
      tbody.appendChild(tr);
    }
    headRow.querySelectorAll("th").forEach(th => {
      th.classList.remove("sorted-asc", "sorted-desc");
      if (th.dataset.key === state.key) th.classList.add(state.dir > 0 ? "sorted-asc" : "sorted-desc");
    });
  }
  if (opts.total) tfoot.appendChild(el("tr", {class: "total"}, columns.map(c => cell(c, opts.total))));
  draw();
  return table;
}

function busy(on, text) {
  const b = document.getElementById("busy");
  b.hidden = !on;
  b.textContent = text || t("computing");
}

function showError(where, err) {
  const box = el("div", {class: "error", role: "alert"}, t("js_error") + (err && err.message ? err.message : String(err)));
  where.prepend(box);
  return box;
}
