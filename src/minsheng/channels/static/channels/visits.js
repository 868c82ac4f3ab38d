/* The field-visit log on a community worker's phone: drafts survive a lost connection.

   - While the form is filled in, its text is saved in localStorage, so a closed tab or a
     crashed browser loses nothing (restored on the next visit to the page).
   - On submit the visit is sent with fetch. When the phone is offline (or the request fails
     on the way) the visit is kept in localStorage as a draft, photos included (scaled down
     to fit), and the form is cleared for the next household.
   - Stored drafts are sent when the browser comes back online, on page load and every
     30 seconds. Each draft carries the client key the server uses to store it once, so a
     draft the server received just before the connection dropped is not recorded twice.

   A static file: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  var DRAFTS = "minsheng.visits.drafts.v1";
  var CURRENT = "minsheng.visits.current.v1";
  var MAX_SIDE = 1280;
  var sending = false;

  function load(key, fallback) {
    try { var raw = window.localStorage.getItem(key); return raw ? JSON.parse(raw) : fallback; } catch (e) { return fallback; }
  }

  function store(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function status(box, name, extra) {
    if (!box) { return; }
    var text = box.getAttribute("data-" + name) || "";
    box.textContent = extra ? text + " " + extra : text;
    box.hidden = !text;
    box.className = "ch-offline ch-offline-" + name;
  }

  /* ---------------------------------------------------------- collecting a draft */

  function textFields(form) {
    var fields = [];
    var elements = form.elements;
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      if (!el.name || el.type === "file" || el.type === "submit" || el.name === "csrfmiddlewaretoken") { continue; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { continue; }
      fields.push([el.name, el.value]);
    }
    return fields;
  }

  function shrink(file) {
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () {
        var img = new Image();
        img.onload = function () {
          var scale = Math.min(1, MAX_SIDE / Math.max(img.width, img.height));
          var canvas = document.createElement("canvas");
          canvas.width = Math.round(img.width * scale);
          canvas.height = Math.round(img.height * scale);
          canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
          resolve({ name: (file.name || "photo").replace(/\.\w+$/, "") + ".jpg", type: "image/jpeg", data: canvas.toDataURL("image/jpeg", 0.82) });
        };
        img.onerror = function () { resolve(null); };
        img.src = reader.result;
      };
      reader.onerror = function () { resolve(null); };
      reader.readAsDataURL(file);
    });
  }

  function collect(form) {
    var input = form.querySelector('input[type="file"]');
    var files = input && input.files ? Array.prototype.slice.call(input.files) : [];
    return Promise.all(files.map(shrink)).then(function (photos) {
      var fields = textFields(form);
      var place = form.querySelector('[name="place"]');
      return { id: randomKey(), savedAt: new Date().toISOString(), fields: fields, photos: photos.filter(Boolean), label: place ? place.value : "" };
    });
  }

  /* ---------------------------------------------------------- sending */

  function dataUrlToBlob(url) {
    var parts = url.split(",");
    var binary = window.atob(parts[1]);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return new Blob([bytes], { type: parts[0].split(":")[1].split(";")[0] });
  }

  function send(form, draft) {
    var body = new FormData();
    var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]');
    body.append("csrfmiddlewaretoken", csrf ? csrf.value : "");
    draft.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    draft.photos.forEach(function (photo) { body.append("photos", dataUrlToBlob(photo.data), photo.name); });
    return window.fetch(form.getAttribute("action") || window.location.pathname, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Minsheng-Draft": "1", "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; }, function () {
        return { status: response.status, data: {} };
      });
    });
  }

  function errorText(data) {
    var errors = (data && data.errors) || {};
    var out = [];
    Object.keys(errors).forEach(function (key) { out = out.concat(errors[key]); });
    return out.join(" ");
  }

  /* ---------------------------------------------------------- the queue of drafts */

  function queue(draft) {
    var drafts = load(DRAFTS, []);
    drafts.push(draft);
    if (store(DRAFTS, drafts)) { return true; }
    // Too big for the browser's storage: keep the text, drop the photos.
    draft.photos = [];
    draft.photosDropped = true;
    drafts[drafts.length - 1] = draft;
    return store(DRAFTS, drafts);
  }

  function render(list, panel) {
    if (!list || !panel) { return; }
    var drafts = load(DRAFTS, []);
    list.textContent = "";
    drafts.forEach(function (draft) {
      var item = document.createElement("li");
      var saved = new Date(draft.savedAt);
      var when = isNaN(saved.getTime()) ? draft.savedAt : saved.toLocaleString();
      item.textContent = when + " · " + (draft.label || "—") + (draft.photosDropped ? " · ✕📷" : "") + (draft.error ? " · " + draft.error : "");
      if (draft.error) { item.className = "ch-draft-error"; }
      list.appendChild(item);
    });
    panel.hidden = drafts.length === 0;
  }

  function flush(form, box, list, panel) {
    if (sending || !navigator.onLine) { return Promise.resolve(); }
    var drafts = load(DRAFTS, []).filter(function (d) { return !d.error; });
    if (!drafts.length) { return Promise.resolve(); }
    sending = true;
    status(box, "sending");
    var failed = false;
    var chain = Promise.resolve();
    drafts.forEach(function (draft) {
      chain = chain.then(function () {
        if (failed) { return; }
        return send(form, draft).then(function (result) {
          var remaining = load(DRAFTS, []);
          if (result.status >= 200 && result.status < 300) {
            remaining = remaining.filter(function (d) { return d.id !== draft.id; });
          } else if (result.status === 400) {
            remaining.forEach(function (d) { if (d.id === draft.id) { d.error = errorText(result.data) || String(result.status); } });
          } else {
            failed = true;  // signed out or server trouble: try again later
          }
          store(DRAFTS, remaining);
        }, function () { failed = true; });
      });
    });
    return chain.then(function () {
      sending = false;
      render(list, panel);
      var left = load(DRAFTS, []);
      var broken = left.filter(function (d) { return d.error; });
      if (broken.length) { status(box, "failed", broken.map(function (d) { return d.label; }).join("、")); }
      else if (!left.length) { status(box, "sent"); }
      else if (!navigator.onLine) { status(box, "offline"); }
    });
  }

  /* ---------------------------------------------------------- the form */

  function autosave(form) {
    store(CURRENT, { fields: textFields(form) });
  }

  function restore(form, box) {
    var saved = load(CURRENT, null);
    if (!saved || form.querySelector(".form-errors, .errorlist")) { return; }
    var changed = false;
    saved.fields.forEach(function (pair) {
      var el = form.elements.namedItem(pair[0]);
      if (el && el.value !== pair[1] && pair[1]) { el.value = pair[1]; changed = changed || el.type !== "hidden"; }
    });
    if (changed) { status(box, "restored"); }
  }

  function clearForm(form) {
    var keep = {};
    ["community", "visited_at", "place_kind"].forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (el) { keep[name] = el.value; }
    });
    form.reset();
    Object.keys(keep).forEach(function (name) { form.elements.namedItem(name).value = keep[name]; });
    var key = form.elements.namedItem("client_key");
    if (key) { key.value = randomKey(); }
    window.localStorage.removeItem(CURRENT);
  }

  function setup(form) {
    var box = document.querySelector("[data-offline-status]");
    var panel = document.querySelector("[data-drafts]");
    var list = document.querySelector("[data-drafts-list]");

    restore(form, box);
    render(list, panel);
    form.addEventListener("input", function () { autosave(form); });
    form.addEventListener("change", function () { autosave(form); });

    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-posting") === "1") { return; }  // the plain fallback below
      event.preventDefault();
      var button = form.querySelector('[type="submit"]');
      if (button) { button.disabled = true; }
      collect(form).then(function (draft) {
        function keepOffline() {
          queue(draft);
          clearForm(form);
          render(list, panel);
          status(box, "saved");
          if (button) { button.disabled = false; }
        }
        if (!navigator.onLine) { keepOffline(); return; }
        return send(form, draft).then(function (result) {
          if (result.status >= 200 && result.status < 300 && result.data.url) {
            window.localStorage.removeItem(CURRENT);
            window.location.assign(result.data.url);
          } else if (result.status >= 500) {
            keepOffline();
          } else {
            // Invalid input or signed out: let the server show the page with its messages.
            form.setAttribute("data-posting", "1");
            HTMLFormElement.prototype.submit.call(form);
          }
        }, keepOffline);
      });
    });

    window.addEventListener("online", function () { flush(form, box, list, panel); });
    window.addEventListener("offline", function () { status(box, "offline"); });
    if (!navigator.onLine) { status(box, "offline"); }
    flush(form, box, list, panel);
    window.setInterval(function () { flush(form, box, list, panel); }, 30000);
  }

  function init() {
    var form = document.querySelector('form[data-offline-form="visit"]');
    if (form && window.localStorage && window.fetch && window.FormData) { setup(form); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
