/* siting app: the Leaflet map (vendored Leaflet, no tiles by default: works offline). */
"use strict";
const ROAD_COLOURS = {national_paved: "#1a1a1a", national_unknown: "#1a1a1a", departmental_paved: "#4d4d4d", departmental_unpaved: "#8c510a",
  vecinal: "#7570b3", trail: "#999999", urban: "#666666"};

const MapView = {
  map: null, canvas: null, layers: {}, placeMarkers: [], proposalMarkers: [], bandColour: {}, onPlace: null,

  init(meta, onPlace) {
    this.onPlace = onPlace;
    meta.bands.forEach(b => { this.bandColour[b.key] = b.colour; });
    this.map = L.map("map", {preferCanvas: false, zoomSnap: 0.25});
    this.canvas = L.canvas({padding: 0.3});
    this.map.fitBounds(meta.bounds);
    L.control.scale({imperial: false}).addTo(this.map);
    const osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
      {maxZoom: 17, attribution: "© OpenStreetMap"});
    this.layers = {
      districts: L.layerGroup().addTo(this.map), roads: L.layerGroup().addTo(this.map),
      places: L.layerGroup().addTo(this.map), cetpro: L.layerGroup().addTo(this.map),
      extension: L.layerGroup().addTo(this.map), tambos: L.layerGroup().addTo(this.map),
      proposals: L.layerGroup().addTo(this.map), selected: L.layerGroup().addTo(this.map),
    };
    const names = LANG === "es"
      ? {districts: "Límites distritales", roads: "Vías", places: "Centros poblados por tiempo de viaje",
         cetpro: "CETPRO (sedes)", extension: "Centros de extensión", tambos: "Tambos y locales anfitriones", proposals: "Propuestas",
         osm: "Fondo OpenStreetMap (requiere internet)"}
      : {districts: "District boundaries", roads: "Roads", places: "Populated places by travel time",
         cetpro: "CETPRO (main sites)", extension: "Extension centres", tambos: "Tambos and host premises", proposals: "Proposals",
         osm: "OpenStreetMap background (needs internet)"};
    const overlays = {};
    for (const k of ["districts", "roads", "places", "cetpro", "extension", "tambos", "proposals"]) overlays[names[k]] = this.layers[k];
    overlays[names.osm] = osm;
    L.control.layers(null, overlays, {collapsed: true}).addTo(this.map);
    this.legend(meta);
  },

  legend(meta) {
    const Legend = L.Control.extend({
      onAdd() {
        const box = el("div", {class: "legend"});
        box.appendChild(el("div", {}, el("strong", {}, LANG === "es" ? "Tiempo al centro más cercano" : "Time to nearest centre")));
        meta.bands.forEach(b => {
          const dot = el("i"); dot.style.background = b.colour;
          box.appendChild(el("div", {}, dot, b.label));
        });
        const sq = (c) => { const i = el("i"); i.style.background = c; i.style.borderRadius = "2px"; return i; };
        box.appendChild(el("div", {}, sq("#08306b"), "CETPRO"));
        box.appendChild(el("div", {}, sq("#2171b5"), LANG === "es" ? "Centro de extensión" : "Extension centre"));
        box.appendChild(el("div", {}, sq("#e7298a"), LANG === "es" ? "Propuesta" : "Proposal"));
        L.DomEvent.disableClickPropagation(box);
        return box;
      },
    });
    new Legend({position: "bottomleft"}).addTo(this.map);
  },

  tip(lines) { return () => el("div", {}, lines.map((s, i) => i === 0 ? el("strong", {}, s) : el("div", {}, s))); },

  drawLayers(data) {
    Object.values(this.layers).forEach(g => g.clearLayers());
    this.placeMarkers = [];
    for (const d of data.districts) {
      L.polyline(d.coords, {color: "#7f7f7f", weight: 0.8, opacity: 0.8, interactive: false}).addTo(this.layers.districts);
    }
    for (const r of data.roads) {
      L.polyline(r.coords, {color: ROAD_COLOURS[r.road_class] || "#555", weight: r.road_class === "vecinal" ? 0.8 : 1.6,
        opacity: 0.7, dashArray: r.approximate ? "3 3" : null, interactive: false}).addTo(this.layers.roads);
    }
    const p = data.places;
    const maxPop = Math.max(...p.population.map(v => v || 0), 1);
    for (let i = 0; i < p.ccpp_id.length; i++) {
      const m = L.circleMarker([p.lat[i], p.lon[i]], {
        renderer: this.canvas, radius: 2 + 8 * Math.sqrt((p.population[i] || 0) / maxPop), weight: 0.5,
        color: "#333", fillColor: this.bandColour[p.band[i]] || "#999", fillOpacity: 0.85,
      });
      const id = p.ccpp_id[i];
      m.bindTooltip(this.tip([p.name[i], `${p.district[i]} · ${fmt(p.population[i])} hab.`,
        `${fmt(p.minutes_nearest[i])} min (${t("walk_only").toLowerCase()}: ${fmt(p.minutes_walk_nearest ? p.minutes_walk_nearest[i] : null)} min)`]));
      m.on("click", () => this.onPlace(id));
      m.feature = {ugel: p.ugel[i], province: p.province[i], district: p.district[i], id};
      this.placeMarkers.push(m);
      m.addTo(this.layers.places);
    }
    const square = (lat, lon, colour, size, lines) => L.marker([lat, lon], {
      icon: L.divIcon({className: "", html: (() => { const d = el("div"); Object.assign(d.style, {width: size + "px",
        height: size + "px", background: colour, border: "2px solid #fff", boxShadow: "0 0 2px #000"}); return d; })(),
        iconSize: [size, size]}), keyboard: false,
    }).bindTooltip(this.tip(lines));
    for (const c of data.cetpro) square(c.lat, c.lon, "#08306b", 12, [c.name, `CETPRO ${c.cod_mod} · ${c.district || ""}`,
      `${t("enrolment")}: ${fmt(c.enrolment)} · ${t("teachers")}: ${fmt(c.teachers)}`]).addTo(this.layers.cetpro);
    for (const c of data.extension) {
      const mk = square(c.lat, c.lon, "#2171b5", 10, [c.name, `${LANG === "es" ? "Centro de extensión" : "Extension centre"} ${c.facility_id}`,
        `${t("parent")}: ${c.parent_cod_mod}`]);
      if (c.ccpp_id) mk.on("click", () => this.onPlace(c.ccpp_id));  // a centre at a centro poblado opens its place
      mk.addTo(this.layers.extension);
    }
    for (const c of data.tambos) square(c.lat, c.lon, "#238b45", 8, [c.name, `Tambo ${c.tambo_code}`]).addTo(this.layers.tambos);
    for (const c of data.host_premises || []) square(c.lat, c.lon, "#969696", 8, [c.name, `${c.kind} ${c.premises_id}`]).addTo(this.layers.tambos);
  },

  applyFilter(f) {
    const keep = m => (!f.ugel || m.feature.ugel === f.ugel) && (!f.province || m.feature.province === f.province)
      && (!f.district || m.feature.district === f.district);
    const shown = [];
    for (const m of this.placeMarkers) {
      const k = keep(m);
      if (k && !this.layers.places.hasLayer(m)) this.layers.places.addLayer(m);
      if (!k && this.layers.places.hasLayer(m)) this.layers.places.removeLayer(m);
      if (k) shown.push(m.getLatLng());
    }
    if (shown.length && (f.ugel || f.province || f.district)) this.map.fitBounds(L.latLngBounds(shown).pad(0.08));
  },

  drawProposals(rows, onClick) {
    this.layers.proposals.clearLayers();
    this.proposalMarkers = rows.map(r => {
      const div = el("div", {class: "proposal-marker" + (r.petition ? " petition" : ""), "data-ccpp": r.ccpp_id}, String(Number(r.rank)));
      const m = L.marker([r.lat, r.lon], {icon: L.divIcon({className: "", html: div, iconSize: [22, 22]}),
        zIndexOffset: 1000, keyboard: false});
      m.bindTooltip(this.tip([`${Number(r.rank)}. ${r.name}`, `${r.district} · ${r.ugel}`, r.reason]));
      m.on("click", () => onClick(r.ccpp_id));
      m.addTo(this.layers.proposals);
      return m;
    });
  },

  select(lat, lon) {
    this.layers.selected.clearLayers();
    L.circleMarker([lat, lon], {radius: 14, color: "#000", weight: 2.5, fill: false, interactive: false}).addTo(this.layers.selected);
  },

  /* screen position of a place (for tests and for focusing) */
  pointOf(ccppId) {
    const m = this.placeMarkers.find(x => x.feature.id === ccppId);
    return m ? this.map.latLngToContainerPoint(m.getLatLng()) : null;
  },
};
