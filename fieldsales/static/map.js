// fieldsales team map: logs in with the API, then shows the caller's visits on a Leaflet map.
//
// Zoomed out (below POINTS_ZOOM) the map asks /maps/clusters for the viewport; zoomed in it asks
// /maps/visits for the points (and falls back to clusters if more than 5,000 match). Clicking a
// visit loads it (/visits/{id}) with its flags and photos; photo bytes need the bearer token, so
// they are fetched as blobs and shown through object URLs. A rep's day is drawn from
// /maps/routes. No inline script and no CDN: the page runs under script-src 'self'.
(function () {
  "use strict";

  var body = document.body;
  var API = body.dataset.api;
  var TILE_URL = body.dataset.tileUrl;
  var TILE_ATTRIBUTION = body.dataset.tileAttribution;
  var MEANINGS = JSON.parse(body.dataset.flagMeanings || "{}");
  var POINTS_ZOOM = 13;
  var STORE = "fieldsales.map.session";

  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };

  var session = null;
  try { session = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { session = null; }
  var map = null, dataLayer = null, routeLayer = null, markers = {};
  var selectedId = null, objectUrls = [], refreshTimer = null, seq = 0, inflight = null;
  var applied = {};  // the filters of the last "Show visits" (the form may be half edited)

  // --- API ------------------------------------------------------------------------------

  function saveSession(value) {
    session = value;
    if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
    else sessionStorage.removeItem(STORE);
  }

  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value !== "" && value !== null && value !== undefined) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value));
      }
    });
    return parts.join("&");
  }

  async function refreshTokens() {
    if (!session || !session.refresh_token) return false;
    var res = await fetch(API + "/auth/refresh", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({refresh_token: session.refresh_token})});
    if (!res.ok) return false;
    var pair = await res.json();
    saveSession(Object.assign({}, session, {access_token: pair.access_token,
                                            refresh_token: pair.refresh_token}));
    return true;
  }

  async function api(path, options, retried) {
    options = options || {};
    var headers = Object.assign({}, options.headers || {});
    if (session) headers.Authorization = "Bearer " + session.access_token;
    var res = await fetch(API + path, Object.assign({}, options, {headers: headers}));
    if (res.status === 401 && !retried && session) {
      if (await refreshTokens()) return api(path, options, true);
      showLogin("Your session ended; please log in again.");
      throw new Error("logged out");
    }
    return res;
  }

  async function errorText(res) {
    try {
      var body = await res.json();
      return body.message || res.statusText;
    } catch (e) {
      return res.status + " " + res.statusText;
    }
  }

  async function getJson(path, options) {
    var res = await api(path, options);
    if (!res.ok) throw new Error(await errorText(res));
    return res.json();
  }

  async function fetchAll(path) {
    var out = [], page = 1, pages = 1;
    do {
      var sep = path.indexOf("?") >= 0 ? "&" : "?";
      var res = await api(path + sep + "page_size=100&page=" + page);
      if (!res.ok) throw new Error(await errorText(res));
      out = out.concat(await res.json());
      var info = JSON.parse(res.headers.get("X-Pagination") || "{}");
      pages = info.total_pages || 1;
      page += 1;
    } while (page <= pages);
    return out;
  }

  // --- dates ----------------------------------------------------------------------------

  function timeZone() {
    return (session && session.user && session.user.timezone) ||
      Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  function today() {
    return new Intl.DateTimeFormat("en-CA", {timeZone: timeZone(), year: "numeric",
                                             month: "2-digit", day: "2-digit"}).format(new Date());
  }

  function addDays(day, n) {
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  function localTime(iso) {
    if (!iso) return "—";
    return new Intl.DateTimeFormat("en-GB", {timeZone: timeZone(), dateStyle: "medium",
                                             timeStyle: "short"}).format(new Date(iso));
  }

  // --- login ----------------------------------------------------------------------------

  function showLogin(message) {
    saveSession(null);
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("login-email").focus();
  }

  $("login-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    try {
      var res = await fetch(API + "/auth/login", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({email: $("login-email").value, password: $("login-password").value})});
      if (!res.ok) {
        $("login-error").textContent = res.status === 401 ? "Wrong e-mail or password." :
          await errorText(res);
        return;
      }
      var data = await res.json();
      if (data.user.role === "rep") {
        $("login-error").textContent = "The team map is for managers, admins and HR.";
        return;
      }
      saveSession({access_token: data.access_token, refresh_token: data.refresh_token,
                   user: data.user});
      $("login-password").value = "";
      await start();
    } catch (e) {
      $("login-error").textContent = "Could not reach the server.";
    } finally {
      $("login-submit").disabled = false;
    }
  });

  $("logout").addEventListener("click", async function () {
    var token = session && session.refresh_token;
    try {
      if (token) await api("/auth/logout", {method: "POST", headers: {"Content-Type": "application/json"},
                                            body: JSON.stringify({refresh_token: token})});
    } catch (e) { /* logging out locally is what matters */ }
    clearVisit();
    if (dataLayer) dataLayer.clearLayers();
    if (routeLayer) routeLayer.clearLayers();
    showLogin("");
  });

  // --- the map --------------------------------------------------------------------------

  function initMap() {
    if (map) return;
    map = L.map("map", {minZoom: 2, maxZoom: 19, worldCopyJump: true}).setView([20, 0], 2);
    if (TILE_URL) {
      L.tileLayer(TILE_URL, {attribution: TILE_ATTRIBUTION, maxZoom: 19}).addTo(map);
    } else {
      $("map").classList.add("no-basemap");  // no base map configured: a plain background
    }
    routeLayer = L.layerGroup().addTo(map);
    dataLayer = L.layerGroup().addTo(map);
    map.on("moveend", scheduleRefresh);
    window.fieldsalesMap = map;  // for the browser test and the console
  }

  function formFilters() {
    return {team_id: $("team").value, user_id: $("rep").value, from: $("from").value,
            to: $("to").value, flagged: $("flagged").checked ? "true" : ""};
  }

  function viewBBox() {
    var b = map.getBounds();
    var clamp = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v)); };
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
            clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map(function (v) { return v.toFixed(6); }).join(",");
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    $("map").dataset.state = "pending";
    refreshTimer = setTimeout(refresh, 150);
  }

  function setStatus(text) { $("status").textContent = text; }

  async function refresh() {
    var mine = ++seq;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    var mapEl = $("map");
    mapEl.dataset.state = "loading";
    var params = Object.assign({}, applied, {bbox: viewBBox()});
    try {
      var mode = map.getZoom() >= POINTS_ZOOM ? "points" : "clusters", data = null;
      if (mode === "points") {
        var res = await api("/maps/visits?" + qs(params), {signal: inflight.signal});
        if (res.status === 422) {
          var err = await res.json();
          if (err.error !== "too_many_features") throw new Error(err.message);
          mode = "clusters";
        } else if (!res.ok) {
          throw new Error(await errorText(res));
        } else {
          data = await res.json();
        }
      }
      if (mode === "clusters") {
        params.zoom = map.getZoom();
        data = await getJson("/maps/clusters?" + qs(params), {signal: inflight.signal});
      }
      if (mine !== seq) return;
      dataLayer.clearLayers();
      markers = {};
      if (mode === "points") drawPoints(data.features); else drawClusters(data.features);
      mapEl.dataset.mode = mode;
      mapEl.dataset.state = "ready";
    } catch (e) {
      if (e.name === "AbortError" || mine !== seq) return;
      setStatus("Could not load visits: " + e.message);
      mapEl.dataset.state = "error";
    }
  }

  function drawPoints(features) {
    var flagged = 0;
    features.forEach(function (f) {
      var p = f.properties, isFlagged = p.flags.length > 0;
      if (isFlagged) flagged += 1;
      var marker = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
        radius: isFlagged ? 8 : 6, weight: 2, fillOpacity: 0.85,
        color: isFlagged ? "#b42318" : "#1d4ed8", fillColor: isFlagged ? "#f04438" : "#528bff",
        className: "visit-marker" + (isFlagged ? " flagged" : "") +
          (p.visit_id === selectedId ? " selected" : "")});
      var tip = el("span", null, p.customer_name + " · " + p.user_name);
      marker.bindTooltip(tip, {direction: "top", offset: [0, -6]});
      marker.on("click", function () { selectVisit(p); });
      marker.on("add", function () { marker.getElement().setAttribute("data-visit-id", p.visit_id); });
      marker.addTo(dataLayer);
      markers[p.visit_id] = marker;
    });
    $("map").dataset.count = String(features.length);
    setStatus(features.length ? features.length + " visits in view · " + flagged + " flagged"
                              : "No visits in view for these filters.");
  }

  function drawClusters(features) {
    var visits = 0, flagged = 0;
    features.forEach(function (f) {
      var p = f.properties;
      visits += p.count;
      flagged += p.flagged_count;
      var size = Math.round(30 + Math.min(26, Math.log2(p.count) * 4));
      var icon = el("div", "cluster-icon" + (p.flagged_count ? " has-flagged" : ""));
      icon.appendChild(el("span", "cluster-count", p.count));
      if (p.flagged_count) icon.appendChild(el("span", "cluster-flagged", p.flagged_count));
      var marker = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
        icon: L.divIcon({html: icon, className: "cluster", iconSize: [size, size]}),
        title: p.count + " visits, " + p.flagged_count + " flagged"});
      marker.on("click", function () { zoomInto(f); });
      marker.addTo(dataLayer);
    });
    $("map").dataset.count = String(visits);
    setStatus(visits ? visits + " visits in view (" + features.length + " clusters) · " +
                       flagged + " flagged — zoom in for single visits"
                     : "No visits in view for these filters.");
  }

  function zoomInto(feature) {
    var b = feature.bbox, target = Math.max(map.getZoom() + 2, POINTS_ZOOM);
    if (b && (b[0] !== b[2] || b[1] !== b[3])) {
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {padding: [40, 40], maxZoom: target});
    } else {
      map.setView([feature.geometry.coordinates[1], feature.geometry.coordinates[0]], target);
    }
  }

  async function fitToData() {
    applied = formFilters();
    var params = Object.assign({}, applied, {zoom: 2});
    var data = await getJson("/maps/clusters?" + qs(params));
    if (!data.features.length) {
      dataLayer.clearLayers();
      setStatus("No visits for these filters.");
      $("map").dataset.count = "0";
      $("map").dataset.state = "ready";
      return;
    }
    var bounds = L.latLngBounds([]);
    data.features.forEach(function (f) {
      bounds.extend([f.bbox[1], f.bbox[0]]);
      bounds.extend([f.bbox[3], f.bbox[2]]);
    });
    map.fitBounds(bounds, {padding: [40, 40], maxZoom: 16});
    scheduleRefresh();
  }

  // --- one visit --------------------------------------------------------------------------

  function clearVisit() {
    objectUrls.forEach(function (u) { URL.revokeObjectURL(u); });
    objectUrls = [];
    selectedId = null;
    $("visit-panel").hidden = true;
  }

  function fact(dl, name, value) {
    dl.appendChild(el("dt", null, name));
    dl.appendChild(el("dd", null, value));
  }

  async function blobUrl(path) {
    var res = await api(path);
    if (!res.ok) throw new Error(await errorText(res));
    var url = URL.createObjectURL(await res.blob());
    objectUrls.push(url);
    return url;
  }

  async function selectVisit(p) {
    clearVisit();
    Object.keys(markers).forEach(function (id) {
      var node = markers[id].getElement && markers[id].getElement();
      if (node) node.classList.toggle("selected", id === p.visit_id);
    });
    selectedId = p.visit_id;
    var panel = $("visit-panel");
    panel.hidden = false;
    panel.dataset.visitId = p.visit_id;
    panel.dataset.state = "loading";
    $("visit-title").textContent = p.customer_name || "Visit";
    var facts = $("visit-facts"), flags = $("visit-flags"), photos = $("visit-photos");
    facts.replaceChildren();
    flags.replaceChildren();
    photos.replaceChildren(el("p", "hint", "Loading…"));
    $("visit-risk").textContent = "";
    try {
      var v = await getJson("/visits/" + encodeURIComponent(p.visit_id));
      if (selectedId !== p.visit_id) return;
      if (p.user_name) fact(facts, "Rep", p.user_name);
      fact(facts, "Checked in", localTime(v.check_in.at));
      fact(facts, "Checked out", v.check_out ? localTime(v.check_out.at) :
           (v.closed_by === "auto" ? "closed automatically" : "still open"));
      if (v.duration_s !== null) fact(facts, "Duration", Math.round(v.duration_s / 60) + " min");
      if (v.check_in.distance_m !== null) {
        fact(facts, "From customer", Math.round(v.check_in.distance_m) + " m");
      }
      if (v.check_in.location.accuracy_m !== null) {
        fact(facts, "GPS accuracy", Math.round(v.check_in.location.accuracy_m) + " m");
      }
      if (v.purpose) fact(facts, "Purpose", v.purpose);
      if (v.summary) fact(facts, "Summary", v.summary);
      $("visit-risk").textContent = "risk " + v.risk_score + "/100";
      if (!v.flags.length) flags.appendChild(el("li", "none", "No flags"));
      v.flags.forEach(function (flag) {
        var li = el("li", "flag");
        li.dataset.flag = flag;
        li.appendChild(el("code", null, flag));
        li.appendChild(el("span", null, MEANINGS[flag] || ""));
        flags.appendChild(li);
      });
      photos.replaceChildren();
      if (!v.photos.length) photos.appendChild(el("p", "hint", "No photos"));
      await Promise.all(v.photos.map(async function (photo) {
        var figure = el("figure", "photo");
        var img = el("img");
        img.alt = "Photo " + (photo.taken_at ? "taken " + localTime(photo.taken_at) : "");
        figure.appendChild(img);
        if (photo.flags.length) figure.appendChild(el("figcaption", "photo-flags", photo.flags.join(", ")));
        photos.appendChild(figure);
        img.src = await blobUrl("/photos/" + photo.id + "/thumbnail");
        await img.decode().catch(function () {});
        img.addEventListener("click", function () { openPreview(photo.id); });
      }));
      panel.dataset.state = "ready";
    } catch (e) {
      if (e.message === "logged out") return;
      photos.replaceChildren(el("p", "error", "Could not load the visit: " + e.message));
      panel.dataset.state = "error";
    }
  }

  async function openPreview(photoId) {
    var box = $("lightbox");
    $("lightbox-img").src = await blobUrl("/photos/" + photoId + "/preview");
    box.hidden = false;
  }
  $("lightbox").addEventListener("click", function () { $("lightbox").hidden = true; });

  // --- route of a day -------------------------------------------------------------------

  $("route-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    var info = $("route-info");
    var rep = $("rep").value;
    if (!rep) {
      info.textContent = "Pick a rep in the Rep list first.";
      return;
    }
    info.textContent = "Loading route…";
    info.dataset.state = "loading";
    try {
      var date = $("route-date").value;
      var loaded = await Promise.all([
        getJson("/maps/routes?" + qs({user_id: rep, date: date})),
        getJson("/agenda?" + qs({user_id: rep, date: date})),
        fetchAll("/visits?" + qs({user_id: rep, from: date, to: date}))]);
      var data = loaded[0], agenda = loaded[1];
      var unplanned = {};
      loaded[2].forEach(function (v) { if (!v.plan_id) unplanned[v.id] = true; });
      routeLayer.clearLayers();
      var line = data.features[0].properties;
      var layer = L.geoJSON(data, {
        style: {className: "route-line", color: "#7c3aed", weight: 4, opacity: 0.85},
        pointToLayer: function (f, latlng) {
          var icon = el("div", "route-stop-icon" + (f.properties.flags.length ? " flagged" : "") +
                        (unplanned[f.properties.visit_id] ? " unplanned" : ""),
                        f.properties.seq);
          return L.marker(latlng, {icon: L.divIcon({html: icon, className: "route-stop",
                                                     iconSize: [24, 24]}),
                                   title: f.properties.seq + ". " + f.properties.customer_name,
                                   zIndexOffset: 1000});
        },
        onEachFeature: function (f, lyr) {
          if (f.properties.kind === "check_in") {
            lyr.on("click", function () {
              selectVisit(Object.assign({user_name: line.user_name}, f.properties));
            });
          }
        },
      }).addTo(routeLayer);
      info.dataset.distance = String(line.distance_m);
      info.dataset.state = "ready";
      info.textContent = line.visits ? line.user_name + " · " + line.date + ": " + line.visits +
        " check-ins, " + (line.distance_m / 1000).toFixed(2) + " km between them"
        : line.user_name + " has no check-in on " + line.date + ".";
      drawPlan(agenda.plans, Object.keys(unplanned).length);
      $("route-clear").hidden = false;
      if (line.visits) map.fitBounds(layer.getBounds(), {padding: [60, 60], maxZoom: 16});
    } catch (e) {
      if (e.message === "logged out") return;
      info.dataset.state = "error";
      info.textContent = "Could not load the route: " + e.message;
    }
  });

  // Plan vs actual: the day's planned stops (done ✓, missed ✗, still planned •) beside the
  // route, whose unplanned check-ins are ringed; the counts in words.
  var PLAN_MARKS = {done: "✓", missed: "✗", planned: "•"};

  function drawPlan(plans, unplannedCount) {
    var counts = {done: 0, missed: 0, planned: 0};
    plans.forEach(function (p) {
      if (!(p.status in counts)) return;  // cancelled plans are not part of the day
      counts[p.status] += 1;
      if (!p.customer || !p.customer.location) return;
      var icon = el("div", "plan-stop-icon plan-" + p.status, PLAN_MARKS[p.status]);
      icon.dataset.planId = p.id;
      L.marker([p.customer.location.lat, p.customer.location.lng], {
        icon: L.divIcon({html: icon, className: "plan-stop", iconSize: [20, 20],
                         iconAnchor: [-4, 24]}),
        title: "Planned: " + p.customer.name + " (" + p.status + ")", zIndexOffset: 900,
      }).addTo(routeLayer);
    });
    var info = $("plan-info");
    info.dataset.done = String(counts.done);
    info.dataset.missed = String(counts.missed);
    info.dataset.planned = String(counts.planned);
    info.dataset.unplanned = String(unplannedCount);
    info.textContent = "Plan vs actual: " + counts.done + " done, " + counts.missed +
      " missed, " + counts.planned + " still planned; " + unplannedCount + " unplanned visits";
    info.dataset.state = "ready";
  }

  $("route-clear").addEventListener("click", function () {
    routeLayer.clearLayers();
    $("plan-info").textContent = "";
    $("route-info").textContent = "";
    $("route-clear").hidden = true;
  });

  // --- filters --------------------------------------------------------------------------

  async function loadReps() {
    var team = $("team").value, select = $("rep"), keep = select.value;
    var users = await fetchAll("/users" + (team ? "?team_id=" + encodeURIComponent(team) : ""));
    select.replaceChildren(el("option", null, "Everyone"));
    select.firstChild.value = "";
    users.filter(function (u) { return u.role === "rep" || u.role === "manager"; })
      .sort(function (a, b) { return a.name.localeCompare(b.name); })
      .forEach(function (u) {
        var option = el("option", null, u.name + (u.role === "manager" ? " (manager)" : ""));
        option.value = u.id;
        select.appendChild(option);
      });
    select.value = keep;
    if (select.value !== keep) select.value = "";
  }

  async function loadTeams() {
    var teams = await fetchAll("/teams");
    var select = $("team");
    select.replaceChildren(el("option", null, "All my teams"));
    select.firstChild.value = "";
    teams.sort(function (a, b) { return a.name.localeCompare(b.name); }).forEach(function (t) {
      var option = el("option", null, t.name);
      option.value = t.id;
      select.appendChild(option);
    });
  }

  $("team").addEventListener("change", function () { loadReps().catch(function () {}); });

  $("filters").addEventListener("submit", function (event) {
    event.preventDefault();
    clearVisit();
    fitToData().catch(function (e) {
      if (e.message !== "logged out") setStatus("Could not load visits: " + e.message);
    });
  });

  // --- start ----------------------------------------------------------------------------

  async function start() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("who").textContent = session.user.name + " (" + session.user.role + ")";
    initMap();
    map.invalidateSize();
    var to = today();
    if (!$("to").value) $("to").value = to;
    if (!$("from").value) $("from").value = addDays(to, -6);
    if (!$("route-date").value) $("route-date").value = addDays(to, -1);
    try {
      await Promise.all([loadTeams(), loadReps()]);
      await fitToData();
    } catch (e) {
      if (e.message !== "logged out") setStatus("Could not load: " + e.message);
    }
  }

  if (session && session.access_token) {
    start();
  } else {
    showLogin("");
  }
})();
