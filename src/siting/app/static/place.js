/* siting app: the place panel (ask about a place, mark a petition, correct the data) and the data panel. */
"use strict";

const PlacePanel = {
  node: null,

  renderSearch(node, onPlace) {
    this.node = node;
    clear(node);
    node.appendChild(el("h2", {}, t("place_title")));
    const input = el("input", {type: "search", id: "place-search", placeholder: t("search_ph"), style: "width:260px", maxlength: 100});
    const list = el("ul", {class: "search-results", id: "search-results"});
    const run = async () => {
      clear(list);
      const hits = await api("/api/search?q=" + encodeURIComponent(input.value));
      for (const h of hits) list.appendChild(el("li", {onclick: () => onPlace(h.ccpp_id)},
        `${h.name} — ${h.district}, ${h.province} (${h.ccpp_id}; ${fmt(h.population)} hab.)`));
    };
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); run(); } });
    node.appendChild(el("div", {class: "inline"}, input, el("button", {type: "button", class: "secondary", onclick: run}, t("search"))));
    node.appendChild(list);
    node.appendChild(el("div", {id: "place-detail"}, el("p", {class: "muted"}, t("click_hint"))));
  },

  kv(pairs) {
    return el("dl", {class: "kv"}, pairs.filter(p => p).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]).flat());
  },

  render(p, ctx) {
    const box = clear(document.getElementById("place-detail"));
    box.dataset.ccpp = p.ccpp_id;
    const g = p.target_group;
    box.appendChild(el("h3", {id: "place-name"}, p.name, el("span", {class: "muted"}, ` · ${p.district}, ${p.province} · ${p.ugel}`)));
    box.appendChild(el("p", {class: "small muted"}, `${p.ccpp_id} · ${p.area || ""} · ${fmt(p.altitude_m)} m`));
    box.appendChild(this.kv([
      [ctx.meta.labels.population, `${fmt(p.population)} (${t("women")}: ${fmt(p.women)}; ${ctx.meta.labels["pop_" + g] || g}: ${fmt(p["pop_" + g])})`],
      [t("minutes_nearest"), el("strong", {}, `${fmt(p.minutes_nearest)} min`)],
      [t("band"), p.band_label || "–"],
      [t("nearest"), p.nearest_facility ? `${p.nearest_facility.name} (${t("kind_" + p.nearest_facility.kind)})` : "–"],
      [t("roads_walk"), `${fmt(p.minutes_nearest)} min`],
      [t("trip_there"), `${fmt1(p.minutes_to_nearest)} min`],
      [t("trip_back"), `${fmt1(p.minutes_from_nearest)} min`],
      [t("walk_only"), `${fmt(p.minutes_walk_nearest)} min`],
      [t("after"), `${fmt(p.minutes_after)} min`],
    ]));
    box.appendChild(el("h3", {}, t("composition", {m: fmt1(p.legs ? p.legs.minutes : p.minutes_to_nearest)})));
    if (p.legs && p.legs.parts) {
      if (p.legs.description) box.appendChild(el("p", {id: "legs-sentence"}, p.legs.description));
      box.appendChild(el("ul", {id: "legs"}, p.legs.parts.map(l => el("li", {}, `${t("part_" + l.part) === "part_" + l.part ? l.part : t("part_" + l.part)}: ${fmt1(l.minutes)} min`))));
      box.appendChild(el("p", {class: "small muted"}, `${fmt1(p.legs.km)} km · ${fmt(p.legs.climb_m)} m ↑`));
    } else {
      box.appendChild(el("p", {class: "small", id: "legs"}, t("no_legs")));
    }
    box.appendChild(el("h3", {}, t("served_by", {t: p.threshold})));
    box.appendChild(p.served_by.length ? el("ul", {}, p.served_by.map(s => el("li", {},
      el("a", {href: "#", onclick: (e) => { e.preventDefault(); ctx.onPlace(s.ccpp_id); }}, s.name),
      ` — ${fmt(s.minutes)} min` + (s.proposal_rank ? ` · ${t("proposal_rank", {r: s.proposal_rank})}` : "")))) : el("p", {}, t("none")));
    if (p.candidate) {
      const c = p.candidate, o = c.opening_alone;
      box.appendChild(el("p", {class: "ok"}, t("is_candidate", {r: c.suitability_rank, n: c.candidates, s: fmt1(100 * (c.score || 0))}),
        c.proposal_rank ? " " + t("proposal_rank", {r: c.proposal_rank}) + "." : ""));
      box.appendChild(el("p", {}, t("opening_alone", {t: p.threshold})));
      box.appendChild(el("ul", {id: "opening-alone"},
        el("li", {}, `${fmt(o.population)} ${t("people")} (${fmt(o.places)} ${t("places")})`),
        el("li", {}, `${fmt(o.women)} ${t("women")}`),
        el("li", {}, `${fmt(o.target)} ${t("people")} ${t("youth", {g: g.replace("_", "-")})} (${fmt(o.women_target)} ${t("women")})`)));
      box.appendChild(el("h3", {}, t("parents", {t: p.teacher_max_minutes})));
      box.appendChild(c.parents.length ? el("ul", {}, c.parents.map(r => el("li", {},
        `${r.name} (${r.cod_mod}) — ${fmt(r.minutes)} min · ${r.capacity_left} ${t("capacity_left")}`))) : el("p", {}, t("none")));
    } else if (p.excluded) {
      box.appendChild(el("p", {class: "note"}, t("not_candidate") + p.excluded.reasons.join("; ") + (LANG === "en" && p.excluded.detail ? ` (${p.excluded.detail})` : "")));
    }
    if (p.petition) box.appendChild(el("p", {class: "note"}, t("is_petition")));
    box.appendChild(this.actions(p, ctx));
  },

  /* the data-correction actions at this place */
  actions(p, ctx) {
    const wrap = el("div", {id: "place-actions"});
    const kinds = Object.fromEntries(ctx.meta.edit_kinds.map(k => [k.kind, k]));
    const formBox = el("div", {id: "edit-form"});
    const open = (kind, fields) => {
      clear(formBox);
      const form = el("form", {class: "controls", "data-kind": kind});
      for (const f of fields) form.appendChild(f);
      const msg = el("div");
      form.append(el("div", {class: "actions wide"}, el("button", {type: "submit", class: "primary"}, t("save")),
        el("button", {type: "button", class: "secondary", onclick: () => clear(formBox)}, t("cancel"))), msg);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const row = {};
        for (const inp of form.querySelectorAll("[name]")) if (inp.value !== "") row[inp.name] = inp.value;
        row.ccpp_id = p.ccpp_id;
        await ctx.saveEdit(kind, row, msg);
      });
      formBox.appendChild(form);
    };
    const text = (name, label, attrs) => el("label", {}, label, el("input", Object.assign({name, type: "text", maxlength: 200}, attrs || {})));
    const choice = (name, label, values) => el("label", {}, label, el("select", {name}, el("option", {value: ""}, ""), values.map(v => el("option", {value: v}, v))));
    const buttons = el("div", {class: "actions"});
    const add = (kind, label, fields) => {
      if (!kinds[kind] || !kinds[kind].supported) return;
      buttons.appendChild(el("button", {type: "button", class: "secondary", "data-action": kind, onclick: () => open(kind, fields())}, label));
    };
    if (kinds.petitions && kinds.petitions.supported) {
      buttons.appendChild(p.petition
        ? el("button", {type: "button", class: "secondary", id: "unmark-petition", onclick: () => ctx.deleteEdit("petitions", p.ccpp_id)}, t("unmark_petition"))
        : el("button", {type: "button", class: "secondary", id: "mark-petition", onclick: () => ctx.saveEdit("petitions", {ccpp_id: p.ccpp_id}, wrap)}, t("mark_petition")));
    }
    const cet = ctx.meta.cetpro;
    add("extension_centres", t("add_extension"), () => [text("name", t("name"), {required: true, value: `${p.name}`}),
      el("label", {}, t("parent"), el("select", {name: "parent_cod_mod", required: true}, cet.map(c => el("option", {value: c.cod_mod}, `${c.name} (${c.cod_mod})`)))),
      el("label", {}, t("opening_date"), el("input", {type: "date", name: "opening_date"})),
      choice("host_type", t("host_type"), kinds.extension_centres.choices.host_type || []),
      choice("status", t("status"), kinds.extension_centres.choices.status || [])]);
    add("tambos", t("add_tambo"), () => [text("TAMBO", t("name"), {required: true})]);
    add("host_premises", t("add_premises"), () => [text("name", t("name"), {required: true}),
      choice("kind", t("kind"), (kinds.host_premises.choices || {}).kind || [])]);
    add("additional_cetpro", t("add_cetpro"), () => [text("cod_mod", t("cod_mod"), {required: true}), text("name", t("name"), {required: true}),
      text("teachers", t("teachers")), text("enrolment", t("enrolment")), text("max_extensions", t("max_extensions"))]);
    add("candidate_exclusions", t("exclude"), () => [text("reason", t("reason"), {required: true})]);
    wrap.append(buttons, formBox);
    return wrap;
  },
};

const EditsPanel = {
  render(node, edits, ctx) {
    clear(node);
    node.appendChild(el("h2", {}, t("edits_title")));
    node.appendChild(el("p", {class: "small"}, t("edits_intro")));
    node.appendChild(el("p", {class: "small"}, `${t("edits_folder")}: `, el("code", {}, edits.folder)));
    if (edits.active) node.appendChild(el("p", {class: "small"}, `${t("replay")}: `, el("code", {id: "replay-command"}, edits.replay)));
    for (const k of edits.kinds) {
      node.appendChild(el("h3", {}, LANG === "es" ? k.es : k.en, k.supported ? "" : el("span", {class: "muted small"}, " " + t("unsupported"))));
      if (!k.supported) continue;
      if (!k.rows.length) { node.appendChild(el("p", {class: "muted small"}, t("no_rows"))); continue; }
      const cols = k.columns.filter(c => k.rows.some(r => r[c])).map(c => ({key: c, label: c, text: true}));
      cols.push({key: "_del", label: "", text: true, render: r => el("button", {type: "button", class: "danger",
        onclick: (e) => { e.stopPropagation(); ctx.deleteEdit(k.kind, r[k.id_column]); }}, t("delete"))});
      node.appendChild(el("div", {class: "table-wrap"}, sortableTable(cols, k.rows, {id: "edits-" + k.kind})));
    }
  },
};
