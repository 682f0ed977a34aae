/* siting: builds the data layers of mapa.html from the JSON in <script id="siting-map-data">.
 *
 * No text of the data is ever parsed as HTML or code: the JSON is read with JSON.parse, and
 * every name or value reaches the page through textContent (popups, tooltips, search tips,
 * layer names).  Part of siting (MIT); written for siting.report.folium_map.
 */
(function () {
  "use strict";
  var own = Object.prototype.hasOwnProperty;
  var source = document.getElementById("siting-map-data");
  if (!source) { return; }
  var cfg = JSON.parse(source.textContent);
  var map = window[cfg.map];

  function node(tag, value, style) {
    var e = document.createElement(tag);
    e.textContent = value === null || value === undefined ? "\u2013" : String(value);
    if (style) { e.setAttribute("style", style); }
    return e;
  }

  function escapeHtml(s) {  // for the two Leaflet APIs that only take HTML strings (layer names)
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function popupNode(props, spec) {
    var box = document.createElement("div");
    box.style.fontSize = "12px";
    if (spec.popup_title && own.call(props, spec.popup_title) && props[spec.popup_title] !== null) {
      box.appendChild(node("b", props[spec.popup_title]));
    }
    var table = document.createElement("table");
    spec.popup.forEach(function (f) {
      if (!own.call(props, f[0])) { return; }
      var tr = document.createElement("tr");
      tr.appendChild(node("th", f[1], "text-align:left;padding-right:6px"));
      tr.appendChild(node("td", props[f[0]]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  function iconNode(icon) {
    var e = document.createElement("div");
    e.className = icon.css_class || "";
    e.setAttribute("style", icon.style);
    if (icon.label !== undefined && icon.label !== null) { e.textContent = String(icon.label); }
    return e;
  }

  function bind(feature, layer, spec) {
    var props = feature.properties || {};
    if (spec.tooltip && own.call(props, spec.tooltip) && props[spec.tooltip] !== null) {
      layer.bindTooltip(function () { return node("span", props[spec.tooltip]); }, {sticky: true});
    }
    if (spec.popup && spec.popup.length) {
      layer.bindPopup(function () { return popupNode(props, spec); }, {maxWidth: spec.popup_width || 300});
    }
  }

  function geojsonLayer(spec) {
    var options = {
      onEachFeature: function (f, l) { bind(f, l, spec); },
      style: function (f) { return (f.properties && f.properties._style) || spec.style || {}; }
    };
    if (spec.kind === "circle") {
      options.pointToLayer = function (f, ll) {
        return L.circleMarker(ll, (f.properties && f.properties._style) || spec.style || {});
      };
    } else if (spec.kind === "marker") {
      options.pointToLayer = function (f, ll) {
        var icon = f.properties._icon, s = icon.size;
        return L.marker(ll, {icon: L.divIcon({html: iconNode(icon), className: "siting-icon",
                                               iconSize: [s, s], iconAnchor: [s / 2, s / 2]})});
      };
    }
    return L.geoJSON(spec.data, options);
  }

  var overlays = {}, searchLayer = null;
  cfg.layers.forEach(function (spec) {
    var layer = spec.type === "var" ? window[spec.var] : geojsonLayer(spec);
    if (!layer) { return; }
    if (spec.show) { layer.addTo(map); } else if (spec.type === "var") { map.removeLayer(layer); }
    overlays[escapeHtml(spec.name)] = layer;
    if (spec.search) { searchLayer = layer; }
  });

  var base = {};
  cfg.base.forEach(function (b) { if (window[b[1]]) { base[escapeHtml(b[0])] = window[b[1]]; } });
  L.control.layers(base, overlays, {collapsed: true}).addTo(map);

  if (searchLayer && cfg.search && L.Control.Search) {
    var s = cfg.search;
    var control = new L.Control.Search({
      layer: searchLayer, propertyName: s.property, collapsed: false, position: s.position,
      textPlaceholder: s.placeholder, textErr: s.not_found, textCancel: s.cancel, initial: false,
      zoom: s.zoom, hideMarkerOnCollapse: true,
      buildTip: function (text) { return node("a", text); }
    });
    control.on("search:locationfound", function (e) { if (e.layer && e.layer.getPopup()) { e.layer.openPopup(); } });
    map.addControl(control);
    window.siting_searchControl = control;
  }
})();
