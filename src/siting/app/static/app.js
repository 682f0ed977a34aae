/* siting app: start-up and wiring of map, filters, panels, export and language. */
"use strict";
const App = {
  meta: null, layers: null, gaps: null, result: null, filter: {ugel: "", province: "", district: ""},
  currentPlace: null, edits: null, book: null, tab: "proposals",

  async start() {
    document.title = "siting — " + t("title");
    document.getElementById("title").textContent = t("title");
    busy(true, t("loading"));
    try {
      const [meta, layers, gaps, result] = await Promise.all([api("/api/meta"), api("/api/layers"), api("/api/gaps"),
        api("/api/propose", {json: {}})]);
      Object.assign(this, {meta, layers, gaps, result});
      document.getElementById("scenario-name").textContent = meta.scenario.name + (meta.scenario.edited ? " ✎" : "");
      this.tabs();
      this.caveats();
      this.filters();
      MapView.init(meta, id => this.openPlace(id));
      MapView.drawLayers(layers);
      GapsPanel.render(document.getElementById("panel-gaps"), gaps, meta, this.filter);
      ProposalsPanel.render(document.getElementById("panel-proposals"), meta, () => this.propose(), name => this.saveScenario(name));
      PlacePanel.renderSearch(document.getElementById("panel-place"), id => this.openPlace(id));
      this.showResult(result);
      document.getElementById("lang-btn").textContent = t("other_lang");
      document.getElementById("lang-btn").addEventListener("click", () => {
        const u = new URL(location.href); u.searchParams.set("lang", LANG === "es" ? "en" : "es"); location.href = u.toString();
      });
      document.getElementById("export-btn").textContent = t("export");
      document.getElementById("export-btn").addEventListener("click", () => this.exportRun());
      this.refreshEdits();
      this.refreshBook();
      document.body.dataset.ready = "1";
    } catch (err) {
      showError(document.getElementById("side"), err);
      document.body.dataset.ready = "error";
    } finally {
      busy(false);
    }
  },

  tabs() {
    const nav = clear(document.getElementById("tabs"));
    for (const k of ["gaps", "proposals", "place", "edits", "compare"]) {
      nav.appendChild(el("button", {type: "button", role: "tab", id: "tab-" + k, "aria-selected": k === this.tab ? "true" : "false",
        onclick: () => this.show(k)}, t("tab_" + k)));
    }
    this.show(this.tab);
  },

  show(tab) {
    this.tab = tab;
    document.querySelectorAll("#tabs button").forEach(b => b.setAttribute("aria-selected", b.id === "tab-" + tab ? "true" : "false"));
    document.querySelectorAll(".panel").forEach(p => p.classList.toggle("active", p.id === "panel-" + tab));
  },

  caveats() {
    const box = clear(document.getElementById("caveats"));
    box.appendChild(el("strong", {}, t("caveats")));
    box.appendChild(el("ul", {id: "caveat-list"}, this.meta.caveats.map(c => el("li", {}, c))));
  },

  filters() {
    const box = clear(document.getElementById("filters"));
    const areas = this.meta.areas;
    const ugel = el("select", {id: "f-ugel"}), prov = el("select", {id: "f-province"}), dist = el("select", {id: "f-district"});
    const fill = () => {
      const u = areas.filter(a => !this.filter.ugel || a.ugel === this.filter.ugel);
      const provs = u.flatMap(a => a.provinces).filter(p => !this.filter.province || p.province === this.filter.province);
      clear(ugel).append(el("option", {value: ""}, t("all")), ...areas.map(a => el("option", {value: a.ugel, selected: a.ugel === this.filter.ugel}, a.ugel)));
      clear(prov).append(el("option", {value: ""}, t("all")), ...u.flatMap(a => a.provinces).map(p => el("option", {value: p.province, selected: p.province === this.filter.province}, p.province)));
      clear(dist).append(el("option", {value: ""}, t("all_m")), ...provs.flatMap(p => p.districts).map(d => el("option", {value: d.district, selected: d.district === this.filter.district}, d.district)));
    };
    const change = () => {
      fill();
      MapView.applyFilter(this.filter);
      GapsPanel.render(document.getElementById("panel-gaps"), this.gaps, this.meta, this.filter);
    };
    ugel.addEventListener("change", () => { this.filter = {ugel: ugel.value, province: "", district: ""}; change(); });
    prov.addEventListener("change", () => { this.filter.province = prov.value; this.filter.district = ""; change(); });
    dist.addEventListener("change", () => { this.filter.district = dist.value; change(); });
    fill();
    box.append(el("label", {}, t("filter_ugel"), ugel), el("label", {}, t("filter_province"), prov), el("label", {}, t("filter_district"), dist));
  },

  showResult(res) {
    this.result = res;
    ProposalsPanel.showResult(res, this.meta, id => this.openPlace(id));
    MapView.drawProposals(res.proposals, id => this.openPlace(id));
  },

  async propose() {
    const box = document.getElementById("whatif-result");
    let overrides;
    try { overrides = ProposalsPanel.overrides(); } catch (err) { showError(box, err); return; }
    busy(true);
    try {
      this.showResult(await api("/api/propose", {json: overrides}));
      if (this.currentPlace) await this.openPlace(this.currentPlace, {keepTab: true});
    } catch (err) {
      showError(box, err);
    } finally {
      busy(false);
    }
  },

  async openPlace(id, opts) {
    try {
      const p = await api("/api/place/" + encodeURIComponent(id) + "?what_if=" + encodeURIComponent(this.result.id));
      this.currentPlace = id;
      if (!(opts && opts.keepTab)) this.show("place");
      PlacePanel.render(p, this.ctx());
      MapView.select(p.lat, p.lon);
    } catch (err) {
      showError(document.getElementById("panel-place"), err);
    }
  },

  ctx() {
    return {meta: this.meta, onPlace: id => this.openPlace(id), saveEdit: (k, r, where) => this.saveEdit(k, r, where),
      deleteEdit: (k, id) => this.deleteEdit(k, id), useScenario: r => this.useScenario(r),
      deleteScenario: n => this.deleteScenario(n)};
  },

  /* after a data correction: layers, gaps and proposals are recomputed with the new data */
  async reloadData() {
    const [meta, layers, gaps] = await Promise.all([api("/api/meta"), api("/api/layers"), api("/api/gaps")]);
    Object.assign(this, {meta, layers, gaps});
    document.getElementById("scenario-name").textContent = meta.scenario.name + (meta.scenario.edited ? " ✎" : "");
    this.caveats();
    MapView.drawLayers(layers);
    MapView.applyFilter(this.filter);
    GapsPanel.render(document.getElementById("panel-gaps"), gaps, meta, this.filter);
    ProposalsPanel.meta = meta;
    let overrides = {};
    try { overrides = ProposalsPanel.overrides(); } catch (e) { overrides = {}; }
    this.showResult(await api("/api/propose", {json: overrides}));
    await this.refreshEdits();
    await this.refreshBook();
  },

  async saveEdit(kind, row, where) {
    busy(true);
    try {
      await api("/api/edits/" + kind, {json: row});
      await this.reloadData();
      if (this.currentPlace) await this.openPlace(this.currentPlace, {keepTab: true});
      const box = document.getElementById("place-detail");
      if (box) box.prepend(el("p", {class: "ok", id: "edit-saved"}, t("saved")));
    } catch (err) {
      showError(where || document.getElementById("place-detail"), err);
    } finally {
      busy(false);
    }
  },

  async deleteEdit(kind, id) {
    busy(true);
    try {
      await api(`/api/edits/${kind}/${encodeURIComponent(id)}`, {method: "DELETE"});
      await this.reloadData();
      if (this.currentPlace) await this.openPlace(this.currentPlace, {keepTab: true});
    } catch (err) {
      showError(document.getElementById("panel-edits"), err);
    } finally {
      busy(false);
    }
  },

  async refreshEdits() {
    this.edits = await api("/api/edits");
    EditsPanel.render(document.getElementById("panel-edits"), this.edits, this.ctx());
  },

  async refreshBook() {
    this.book = await api("/api/scenarios");
    ComparePanel.render(document.getElementById("panel-compare"), this.book, this.ctx());
  },

  async saveScenario(name) {
    const box = document.getElementById("whatif-result");
    try {
      const overrides = ProposalsPanel.overrides();
      busy(true);
      this.book = await api("/api/scenarios", {json: {name: name || ("#" + ((this.book ? this.book.scenarios.length : 0) + 1)), overrides}});
      ComparePanel.render(document.getElementById("panel-compare"), this.book, this.ctx());
      this.show("compare");
    } catch (err) {
      showError(box, err);
    } finally {
      busy(false);
    }
  },

  async deleteScenario(name) {
    this.book = await api("/api/scenarios/" + encodeURIComponent(name), {method: "DELETE"});
    ComparePanel.render(document.getElementById("panel-compare"), this.book, this.ctx());
  },

  async useScenario(r) {
    busy(true);
    try {
      this.showResult(await api("/api/propose", {json: r.overrides}));
      this.show("proposals");
    } catch (err) {
      showError(document.getElementById("panel-compare"), err);
    } finally {
      busy(false);
    }
  },

  async exportRun() {
    const state = clear(document.getElementById("export-state"));
    let job;
    try {
      job = await api("/api/export", {json: {overrides: this.result ? this.result.overrides : {}}});
    } catch (err) { state.textContent = t("export_failed") + err.message; return; }
    state.textContent = t("export_running");
    const poll = async () => {
      job = await api("/api/export/" + job.job);
      if (job.state === "done") {
        clear(state).appendChild(el("a", {href: job.zip, id: "export-link", style: "color:#fdae61"}, t("export_done")));
      } else if (job.state === "failed") {
        state.textContent = t("export_failed") + job.message;
      } else {
        state.textContent = `${t("export_running")} ${Math.round(job.seconds)} s`;
        setTimeout(poll, 1500);
      }
    };
    setTimeout(poll, 1500);
  },
};

window.sitingApp = App;
window.sitingMap = MapView;
document.addEventListener("DOMContentLoaded", () => App.start());
