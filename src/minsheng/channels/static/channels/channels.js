/* Channels' staff pages: small progressive enhancements (every page works without them).
   No inline handlers (CSP): behaviour hangs off data-* attributes. */
(function () {
  "use strict";

  function each(selector, fn, root) {
    var nodes = (root || document).querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) { fn(nodes[i]); }
  }

  /* Print buttons on the poster and ledger pages. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { window.print(); }
  });

  /* Formsets: "add a row" clones the empty form and bumps TOTAL_FORMS. */
  function setupRows(button) {
    var name = button.getAttribute("data-add-row");
    var form = button.closest("form");
    var list = form.querySelector('[data-rows="' + name + '"]');
    var template = form.querySelector('template[data-row-template="' + name + '"]');
    var total = form.querySelector('input[name="' + name + '-TOTAL_FORMS"]');
    var max = form.querySelector('input[name="' + name + '-MAX_NUM_FORMS"]');
    if (!list || !template || !total) { return; }
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) { return; }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("ol");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      list.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("textarea, input");
      if (first) { first.focus(); }
    });
  }

  /* Survey settings: show the street or community picker for the chosen scope. */
  function setupScope(box) {
    var select = document.querySelector('select[name="' + box.getAttribute("data-scope-for") + '"]');
    if (!select) { return; }
    function update() {
      each("[data-scope]", function (part) { part.hidden = part.getAttribute("data-scope") !== select.value; }, box);
    }
    select.addEventListener("change", update);
    update();
  }

  /* Question form: options for choice questions, limits for number questions. */
  function setupKinds(form) {
    var select = form.querySelector('select[name="kind"]');
    if (!select) { return; }
    function update() {
      each("[data-kinds]", function (part) {
        part.hidden = part.getAttribute("data-kinds").split(" ").indexOf(select.value) < 0;
      }, form);
    }
    select.addEventListener("change", update);
    update();
  }

  function init() {
    each("[data-add-row]", setupRows);
    each("[data-scope-for]", setupScope);
    each("form.ch-form", setupKinds);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
