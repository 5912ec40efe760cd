// fieldsales: this month's targets of the caller's teams and people as progress bars, from
// GET /targets/progress (computed live). The team map's login (this tab's sessionStorage)
// carries the token; without it the page points there.
(function () {
  "use strict";
  var STORE = "fieldsales.map.session";
  var API = "/api/v1";
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  var root = $("targets");
  var session = null;
  try { session = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { session = null; }
  var now = new Date();
  var period = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0");
  $("period").textContent = period;
  if (!session || !session.access_token) {
    $("need-login").hidden = false;
    root.dataset.state = "login";
    return;
  }
  var headers = {Authorization: "Bearer " + session.access_token};

  function getJson(path) {
    return fetch(API + path, {headers: headers}).then(function (res) {
      if (!res.ok) throw new Error(res.status === 401 ? "Log in on the team map again."
                                                      : "The server answered " + res.status + ".");
      return res.json();
    });
  }

  function percent(part, whole) {
    return whole > 0 ? Math.min(100, 100 * part / whole) : 0;
  }

  function item(entry, names) {
    var t = entry.target, amount = Number(t.amount), achieved = Number(entry.achieved);
    var expected = Number(entry.expected_to_date);
    var li = el("li", "target");
    li.dataset.subject = t.subject.id;
    li.dataset.metric = t.metric;
    li.dataset.achieved = achieved;
    li.dataset.amount = amount;
    li.appendChild(el("div", "name", (names[t.subject.id] || t.subject.type) + " · " +
                                     t.metric.replace("_", " ")));
    var bar = el("div", "bar");
    var fill = el("div", "fill" + (achieved < expected ? " behind" : ""));
    fill.style.width = percent(achieved, amount).toFixed(1) + "%";
    var pace = el("div", "pace");
    pace.style.left = percent(expected, amount).toFixed(1) + "%";
    bar.appendChild(fill);
    bar.appendChild(pace);
    li.appendChild(bar);
    li.appendChild(el("div", "figures", achieved + " of " + amount + " (" +
                      Math.round(100 * (entry.rate || 0)) + "%) · pace " + expected));
    if (entry.children.length) {
      var ul = el("ul");
      entry.children.filter(function (c) { return c.target.period === period; })
        .forEach(function (c) { ul.appendChild(item(c, names)); });
      li.appendChild(ul);
    }
    return li;
  }

  Promise.all([getJson("/targets/progress?period=" + period), getJson("/teams?page_size=100"),
               getJson("/users?page_size=100")])
    .then(function (all) {
      var names = {};
      all[1].forEach(function (t) { names[t.id] = t.name; });
      all[2].forEach(function (u) { names[u.id] = u.name; });
      var list = $("target-list");
      all[0].forEach(function (entry) { list.appendChild(item(entry, names)); });
      $("targets-status").textContent = all[0].length ? "" : "No targets for " + period + ".";
      root.dataset.count = String(all[0].length);
      root.dataset.state = "ready";
    })
    .catch(function (err) {
      $("targets-status").textContent = err.message;
      root.dataset.state = "error";
    });
})();
