/* siting app: the gaps panel and the what-if (proposals) panel. */
"use strict";

/* ------------------------------------------------------------------ gaps */
const GapsPanel = {
  threshold: null,
  render(node, gaps, meta, filter) {
    clear(node);
    if (this.threshold === null) this.threshold = meta.main_threshold;
    node.appendChild(el("h2", {}, t("gaps_title")));
    const sel = el("select", {id: "gap-threshold", onchange: (e) => { this.threshold = Number(e.target.value); this.render(node, gaps, meta, filter); }},
      gaps.thresholds.map(th => el("option", {value: th, selected: th === this.threshold}, `${th} min`)));
    node.appendChild(el("div", {class: "inline"}, el("label", {}, t("threshold") + " "), sel,
      el("span", {class: "muted small"}, t("sort_hint"))));
    const rows = gaps.rows.filter(r => (!filter.ugel || r.ugel === filter.ugel) && (!filter.province || r.province === filter.province)
      && (!filter.district || r.district === filter.district));
    const th = this.threshold;
    const cols = [{key: "district", label: meta.labels.district, text: true},
      {key: "province", label: meta.labels.province, text: true}];
    for (const m of gaps.measures) {
      cols.push({key: `${m}_beyond_${th}`, label: `${gaps.measure_labels[m]}`, title: `${gaps.measure_labels[m]} ${t("beyond")} ${th} min`});
    }
    cols.push({key: "_share", label: t("share_beyond"), fmt: pct, sortValue: r => r._share});
    const total = {district: t("total"), province: ""};
    for (const r of rows) r._share = r.population ? r[`population_beyond_${th}`] / r.population : null;
    for (const c of cols.slice(2, -1)) total[c.key] = rows.reduce((s, r) => s + (r[c.key] || 0), 0);
    total.population = rows.reduce((s, r) => s + (r.population || 0), 0);
    total._share = total.population ? total[`population_beyond_${th}`] / total.population : null;
    node.appendChild(el("p", {class: "small"}, `${t("beyond")} ${th} min: `, el("strong", {}, fmt(total[`population_beyond_${th}`])),
      ` (${pct(total._share)} ${t("share_of_pop")} ${fmt(total.population)})`));
    node.appendChild(el("div", {class: "table-wrap"}, sortableTable(cols, rows,
      {id: "gaps-table", sortKey: `population_beyond_${th}`, sortDir: -1, total})));
  },
};

/* ------------------------------------------------------------------ what-if controls */
const ProposalsPanel = {
  form: null, node: null, meta: null,

  numberField(key, label, value, attrs) {
    return el("label", {}, label, el("input", Object.assign({type: "number", name: key, value: value}, attrs || {})));
  },

  render(node, meta, onPropose, onSave) {
    this.node = node; this.meta = meta;
    clear(node);
    const c = meta.controls;
    node.appendChild(el("h2", {}, t("proposals_title")));
    const weights = el("div", {class: "weights"});
    for (const cr of meta.criteria) {
      weights.append(el("span", {title: cr.description}, cr.label),
        el("input", {type: "number", step: "0.05", min: "0", name: "w:" + cr.key, value: c.suitability__weights[cr.key] || 0}));
    }
    const ahpText = c.suitability__ahp && Object.keys(c.suitability__ahp).length ? JSON.stringify(c.suitability__ahp) : "";
    const form = el("form", {class: "controls", id: "whatif-form", onsubmit: (e) => { e.preventDefault(); onPropose(); }},
      this.numberField("allocation__n_sites", t("n_sites"), c.allocation__n_sites, {min: 0, max: 200, step: 1, id: "n-sites"}),
      el("label", {title: t("objective_hint")}, t("objective"), el("select", {name: "allocation__objective", id: "objective-select"},
        meta.choices.objective.map(o => el("option", {value: o, selected: o === c.allocation__objective}, t("objective_" + o))))),
      el("label", {title: t("coverage_target")}, el("span", {}, el("input", {type: "checkbox", name: "use_target", checked: (c.allocation__coverage_target || 0) > 0}), " ", t("use_target")),
        el("input", {type: "number", name: "allocation__coverage_target", value: 100 * (c.allocation__coverage_target || 0), min: 0, max: 100, step: 1})),
      el("label", {}, t("solver"), el("select", {name: "allocation__solver"},
        meta.choices.solver.map(s => el("option", {value: s, selected: s === c.allocation__solver}, t("solver_" + s))))),
      this.numberField("allocation__max_minutes", t("max_minutes"), c.allocation__max_minutes, {min: 5, max: 600, step: 5}),
      this.numberField("allocation__teacher_max_minutes", t("teacher_max"), c.allocation__teacher_max_minutes, {min: 5, max: 900, step: 5}),
      this.numberField("allocation__max_extensions_per_cetpro", t("max_ext"), c.allocation__max_extensions_per_cetpro, {min: 0, max: 50, step: 1}),
      el("label", {}, t("target_group"), el("select", {name: "population__target_group"},
        meta.choices.target_group.map(g => el("option", {value: g, selected: g === c.population__target_group}, g.replace("_", "-"))))),
      this.numberField("allocation__weight_women", t("weight_women"), c.allocation__weight_women, {min: 0, max: 10, step: 0.1}),
      this.numberField("candidates__min_population", t("min_pop"), c.candidates__min_population, {min: 0, step: 10}),
      el("label", {}, t("group_by"), el("select", {name: "allocation__group_by"},
        meta.choices.group_by.map(g => el("option", {value: g, selected: g === c.allocation__group_by}, t(g))))),
      this.numberField("allocation__min_per_ugel", t("min_per"), c.allocation__min_per_ugel, {min: 0, step: 1}),
      this.numberField("allocation__max_per_ugel", t("max_per"), c.allocation__max_per_ugel, {min: 0, step: 1}),
      el("details", {class: "wide", id: "weights-box"}, el("summary", {}, t("weights")), weights,
        el("label", {}, el("span", {}, el("input", {type: "checkbox", name: "use_ahp", checked: !!ahpText}), " ", t("use_ahp"))),
        el("textarea", {name: "ahp", rows: 2, style: "width:100%"}, ahpText)),
      el("div", {class: "actions wide"},
        el("button", {type: "submit", class: "primary", id: "propose-btn"}, t("propose")),
        el("button", {type: "button", class: "secondary", onclick: () => { this.render(node, meta, onPropose, onSave); onPropose(); }}, t("reset")),
        el("input", {type: "text", id: "scenario-name-input", placeholder: t("scenario_name"), maxlength: 60, style: "width:150px"}),
        el("button", {type: "button", class: "secondary", id: "save-scenario-btn", onclick: () => onSave(document.getElementById("scenario-name-input").value)}, t("save_as"))));
    this.form = form;
    node.appendChild(form);
    node.appendChild(el("div", {id: "whatif-result"}));
  },

  /* the form as section__key overrides, only the keys that differ from the scenario */
  overrides() {
    const f = this.form, c = this.meta.controls, out = {};
    const num = (k) => Number(f.elements[k].value);
    const ints = ["allocation__n_sites", "allocation__max_extensions_per_cetpro", "candidates__min_population",
      "allocation__min_per_ugel", "allocation__max_per_ugel"];
    const floats = ["allocation__max_minutes", "allocation__teacher_max_minutes", "allocation__weight_women"];
    for (const k of ints) if (num(k) !== c[k]) out[k] = Math.round(num(k));
    for (const k of floats) if (num(k) !== c[k]) out[k] = num(k);
    for (const k of ["population__target_group", "allocation__group_by", "allocation__solver", "allocation__objective"]) if (f.elements[k].value !== c[k]) out[k] = f.elements[k].value;
    const target = f.elements.use_target.checked ? num("allocation__coverage_target") / 100 : 0;
    if (target !== (c.allocation__coverage_target || 0)) out.allocation__coverage_target = target;
    const w = {};
    let changed = false;
    for (const cr of this.meta.criteria) {
      const v = Number(f.elements["w:" + cr.key].value) || 0;
      if (v > 0) w[cr.key] = v;
      if (v !== (c.suitability__weights[cr.key] || 0)) changed = true;
    }
    if (changed) out.suitability__weights = w;
    if (f.elements.use_ahp.checked) {
      let ahp;
      try { ahp = JSON.parse(f.elements.ahp.value || "{}"); } catch (e) { throw new Error("AHP: JSON — " + e.message); }
      if (JSON.stringify(ahp) !== JSON.stringify(c.suitability__ahp || {})) out.suitability__ahp = ahp;
    } else if (c.suitability__ahp && Object.keys(c.suitability__ahp).length) {
      out.suitability__ahp = {};
    }
    return out;
  },

  showResult(res, meta, onPlace) {
    const box = clear(document.getElementById("whatif-result"));
    const s = res.summary, g = res.target_group.replace("_", "-");
    const tot = s.target_total || 1;
    box.appendChild(el("p", {class: "ok", id: "whatif-summary"}, t("result_summary", {
      n: res.proposals.length, g, t: res.threshold, before: fmt(s[`pop_${res.target_group}_within_before`]),
      bs: pct(s[`pop_${res.target_group}_within_before`] / tot), after: fmt(s[`pop_${res.target_group}_within_after`]),
      as: pct(s[`pop_${res.target_group}_within_after`] / tot), women: fmt(s.women_newly_within)})));
    const m = res.measures || {};
    box.appendChild(el("p", {class: "small", id: "objective-line"}, t("objective_line", {name: t("objective_" + (res.objective_kind || "mclp")),
      cov: fmt(m.newly_covered), mean: fmt1(m.mean_minutes), worst: fmt1(m.worst_minutes), gini: (m.gini ?? NaN).toFixed(3), t2: fmt(m.beyond_equity)})));
    box.appendChild(el("p", {class: "small muted"}, t("solver_line", {solver: res.solver, status: res.status,
      obj: fmt(res.objective), bound: fmt(res.bound), gap: pct(res.gap), s: fmt1(res.seconds)})));
    const cols = [
      {key: "rank", label: t("col_rank")},
      {key: "name", label: t("col_place") + " — " + t("col_reason").toLowerCase(), text: true, render: r => el("span", {}, el("strong", {}, r.name), r.petition ? el("span", {class: "badge pet"}, t("petition")) : null,
        el("div", {class: "small muted"}, `${r.district} · ${r.province}`), el("div", {class: "reason"}, r.reason)), cls: "place-cell"},
      {key: "parent_name", label: t("col_parent"), text: true, render: r => r.parent_cod_mod ? `${r.parent_name} (${fmt(r.teacher_minutes)})` : "—"},
      {key: "new_target", label: t("col_new_target")},
      {key: "new_women_target", label: t("col_new_women_target")},
      {key: "new_population", label: t("col_new_pop")},
      {key: "minutes_saved", label: t("col_saved"), fmt: fmt1},
      {key: "host_premises", label: t("col_host"), title: null},
      {key: "share_top_n", label: t("col_stab"), fmt: pct, title: t("stability_hint")},
    ];
    box.appendChild(el("div", {class: "table-wrap"}, sortableTable(cols, res.proposals,
      {id: "proposals-table", sortKey: "rank", sortDir: 1, onRowClick: r => onPlace(r.ccpp_id)})));
    box.appendChild(el("p", {class: "small muted"}, t("stability_hint")));
    if (res.petitions && res.petitions.length) {
      box.appendChild(el("h3", {}, t("petitions_title")));
      box.appendChild(el("ul", {id: "petitions-list"}, res.petitions.map(p => el("li", {},
        el("a", {href: "#", onclick: (e) => { e.preventDefault(); onPlace(p.ccpp_id); }}, p.name || p.ccpp_id), ": ",
        p.status === "chosen" ? t("pet_chosen", {r: p.proposal_rank}) : p.status === "candidate"
          ? t("pet_candidate", {r: p.suitability_rank, n: p.candidates}) : p.status === "excluded"
          ? t("pet_excluded", {why: (p.reasons || []).join("; ")}) : t("pet_outside")))));
    }
    box.appendChild(el("h3", {}, t("curve_title")));
    box.appendChild(Chart.curves([{name: "", colour: "#e7298a", points: res.curve.map(c => [c.n_sites, c.covered_target])}],
      {mark: res.proposals.length, total: s.target_total, width: 520, height: 200}));
  },
};
