/* Residents' pages (H5): small progressive enhancements. Every page works without this file;
   it only adds address suggestions, an early photo check, double-submit protection and a
   copy button. Written in plain ES5 for older in-app browsers. Served as a static file: the
   Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, wait);
    };
  }

  /* ---------------------------------------------------------- address suggestions */

  function setupPlaces(input) {
    var url = input.getAttribute("data-places");
    var list = document.createElement("ul");
    var active = -1;
    var pending = null;
    var results = [];

    list.id = (input.id || "places") + "-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    input.parentNode.insertBefore(list, input.nextSibling);
    input.parentNode.className += " field-places";

    function close() {
      list.hidden = true;
      list.textContent = "";
      results = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      if (!results[index]) { return; }
      input.value = results[index].label;
      close();
      input.focus();
    }

    function highlight(index) {
      var items = list.children;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        if (items[index].scrollIntoView) { items[index].scrollIntoView({ block: "nearest" }); }
      }
    }

    function option(result, index) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      var where = document.createElement("span");
      item.id = list.id + "-" + index;
      item.className = "suggestion";
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      name.textContent = result.label;
      where.className = "suggestion-where";
      where.textContent = [result.street, result.community].filter(Boolean).join(" · ");
      item.appendChild(name);
      if (where.textContent) { item.appendChild(where); }
      // Keep the focus in the box while a finger or mouse picks an option.
      item.addEventListener("mousedown", function (event) { event.preventDefault(); });
      item.addEventListener("click", function () { choose(index); });
      return item;
    }

    function show(found) {
      results = found || [];
      list.textContent = "";
      active = -1;
      if (!results.length) { close(); return; }
      for (var i = 0; i < results.length; i++) { list.appendChild(option(results[i], i)); }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    var lookup = debounce(function () {
      var query = input.value.trim();
      if (!query || !window.fetch) { close(); return; }
      if (pending && pending.abort) { pending.abort(); }
      pending = window.AbortController ? new AbortController() : null;
      window.fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : { results: [] };
      }).then(function (data) {
        if (input.value.trim() === query) { show(data.results); }
      })["catch"](function () { /* offline or superseded: the box still takes free text */ });
    }, 200);

    input.addEventListener("input", lookup);
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      var count = list.children.length;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight((active + 1) % count); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight((active - 1 + count) % count); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { close(); }
    });
  }

  /* ---------------------------------------------------------- photos */

  function setupPhotoCheck(input) {
    var box = document.querySelector("[data-photo-check]");
    var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
    if (!box) { return; }
    input.addEventListener("change", function () {
      var files = input.files || [];
      var message = "";
      if (files.length > maxFiles) {
        message = box.getAttribute("data-too-many");
      } else {
        for (var i = 0; i < files.length; i++) {
          if (files[i].size > maxBytes) { message = box.getAttribute("data-too-big"); }
        }
      }
      // The server checks again; this only saves a slow upload that would be refused.
      input.setCustomValidity(message);
      box.textContent = message;
      box.hidden = !message;
    });
  }

  /* ---------------------------------------------------------- double submits */

  function setupBusyForm(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-busy-label]");
      if (!button) { return; }
      button.setAttribute("data-idle-label", button.textContent);
      button.textContent = button.getAttribute("data-busy-label");
      // Disabled after the submit event has started, so the form is still sent.
      setTimeout(function () { button.disabled = true; }, 0);
    });
  }

  // Coming back with the Back button restores the page from cache with its buttons disabled.
  window.addEventListener("pageshow", function () {
    var buttons = document.querySelectorAll("[data-idle-label]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = false;
      buttons[i].textContent = buttons[i].getAttribute("data-idle-label");
    }
  });

  /* ---------------------------------------------------------- copy the tracking code */

  function setupCopy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) { button.hidden = true; return; }
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-copied-label");
      })["catch"](function () { /* the code stays selectable by hand */ });
    });
  }

  function each(selector, fn) {
    var nodes = document.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) { fn(nodes[i]); }
  }

  function init() {
    each("input[data-places]", setupPlaces);
    each("input[type=file][data-max-files]", setupPhotoCheck);
    each("form[data-busy-form]", setupBusyForm);
    each("[data-copy]", setupCopy);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
