/* siting app: the coverage-versus-N chart (hand-drawn SVG) and the named-scenario comparison. */
"use strict";
const SVGNS = "http://www.w3.org/2000/svg";
const PALETTE = ["#e7298a", "#1b9e77", "#7570b3", "#d95f02", "#66a61e", "#e6ab02", "#a6761d", "#666666",
  "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6"];

const Chart = {
  svg(tag, attrs, text) {
    const n = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = String(text);
    return n;
  },

  /* series: [{name, colour, points: [[n, covered], ...]}]; opts: {mark, total, width, height} */
  curves(series, opts) {
    const W = opts.width || 520, H = opts.height || 220, m = {l: 58, r: 10, t: 10, b: 28};
    const all = series.flatMap(s => s.points);
    const xmax = Math.max(1, ...all.map(p => p[0])), ymax = Math.max(1, ...all.map(p => p[1]));
    const x = v => m.l + (W - m.l - m.r) * v / xmax, y = v => H - m.b - (H - m.t - m.b) * v / ymax;
    const svg = this.svg("svg", {class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img"});
    svg.appendChild(this.svg("line", {x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b, stroke: "#999"}));
    svg.appendChild(this.svg("line", {x1: m.l, y1: m.t, x2: m.l, y2: H - m.b, stroke: "#999"}));
    for (let i = 0; i <= 4; i++) {
      const v = ymax * i / 4;
      svg.appendChild(this.svg("text", {x: m.l - 4, y: y(v) + 3, "text-anchor": "end"}, fmt(v)));
      svg.appendChild(this.svg("line", {x1: m.l, y1: y(v), x2: W - m.r, y2: y(v), stroke: "#eee"}));
    }
    const step = xmax > 20 ? 5 : (xmax > 10 ? 2 : 1);
    for (let n = step; n <= xmax; n += step) svg.appendChild(this.svg("text", {x: x(n), y: H - m.b + 13, "text-anchor": "middle"}, n));
    svg.appendChild(this.svg("text", {x: W - m.r, y: H - 3, "text-anchor": "end"}, t("sites")));
    series.forEach((s, k) => {
      const d = s.points.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
      const dash = k ? `${4 + 2 * k} ${3 + k}` : "none";  // coinciding curves stay visible
      svg.appendChild(this.svg("path", {d, fill: "none", stroke: s.colour, "stroke-width": 2, "stroke-dasharray": dash,
        "data-series": s.name}));
      const mark = opts.mark !== undefined ? opts.mark : s.mark;
      const pt = s.points.find(p => p[0] === (s.mark !== undefined ? s.mark : mark));
      if (pt) svg.appendChild(this.svg("circle", {cx: x(pt[0]), cy: y(pt[1]), r: 4, fill: s.colour}));
    });
    return svg;
  },
};

const ComparePanel = {
  render(node, book, ctx) {
    clear(node);
    node.appendChild(el("h2", {}, t("compare_title")));
    node.appendChild(el("p", {class: "small"}, t("compare_intro")));
    const rows = book.scenarios.filter(r => !r.error);
    for (const r of book.scenarios.filter(r => r.error)) node.appendChild(el("p", {class: "error"}, `${r.name}: ${r.error}`));
    if (!rows.length) { node.appendChild(el("p", {class: "muted", id: "compare-empty"}, t("c_none"))); return; }
    const colour = Object.fromEntries(rows.map((r, i) => [r.name, PALETTE[i % PALETTE.length]]));
    const cols = [
      {key: "_act", label: "", text: true, render: r => el("span", {},
        el("button", {type: "button", class: "secondary", onclick: () => ctx.useScenario(r)}, t("use")), " ",
        el("button", {type: "button", class: "danger", onclick: () => ctx.deleteScenario(r.name)}, t("delete")))},
      {key: "name", label: t("c_name"), text: true, render: r => { const i = el("i"); i.style.cssText = `display:inline-block;width:10px;height:10px;background:${colour[r.name]};margin-right:4px`; return el("span", {}, i, r.name); }},
      {key: "n_sites", label: t("c_sites")}, {key: "threshold", label: t("c_thr")},
      {key: "new_target", label: t("c_new_target")}, {key: "new_women", label: t("c_new_women")},
      {key: "target_share_after", label: t("c_share"), fmt: pct},
    ];
    node.appendChild(el("div", {class: "table-wrap"}, sortableTable(cols, rows, {id: "compare-table"})));
    node.appendChild(el("h3", {}, t("curve_title")));
    node.appendChild(Chart.curves(rows.map(r => ({name: r.name, colour: colour[r.name], points: r.curve, mark: r.n_sites})), {width: 520, height: 230}));
    node.appendChild(el("div", {class: "chart-legend"}, rows.map(r => { const i = el("i"); i.style.background = colour[r.name]; return el("span", {}, i, r.name); })));
    node.appendChild(el("h3", {}, t("c_common")));
    const head = el("tr", {}, el("th", {class: "text"}, ""), book.names.map(n => el("th", {}, n)));
    const body = book.names.map((n, i) => el("tr", {}, el("th", {class: "text"}, n), book.common[i].map(v => el("td", {}, fmt(v)))));
    node.appendChild(el("table", {class: "data", id: "common-table"}, el("thead", {}, head), el("tbody", {}, body)));
    node.appendChild(el("p", {class: "small"}, `${t("c_all")}: ${book.in_all.length}`));
    node.appendChild(el("h3", {}, t("c_sites_table")));
    const sc = [{key: "name", label: t("col_place"), text: true}].concat(book.names.map(n => ({key: "r:" + n, label: n,
      sortValue: s => s.ranks[n], render: s => s.ranks[n] ? String(s.ranks[n]) : ""})));
    node.appendChild(el("div", {class: "table-wrap"}, sortableTable(sc, book.sites, {onRowClick: s => ctx.onPlace(s.ccpp_id)})));
  },
};
