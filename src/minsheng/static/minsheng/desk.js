/* minsheng workbench: small progressive enhancements. Everything works without this file.
   No inline handlers (CSP): behaviour hangs off data-* attributes. */
(function () {
  "use strict";

  function boxes(name) {
    return Array.prototype.slice.call(document.querySelectorAll('input[type=checkbox][name="' + name + '"]'));
  }

  function updateBulkCount() {
    var out = document.querySelector("[data-bulk-count]");
    if (!out) return;
    var n = boxes("cases").filter(function (b) { return b.checked; }).length;
    out.textContent = n ? (document.documentElement.lang.indexOf("zh") === 0 ? "已选 " + n + " 件" : n + " selected") : "";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      boxes(target.getAttribute("data-select-all")).forEach(function (b) { b.checked = target.checked; });
    }
    if (target.name === "cases" || (target.matches && target.matches("[data-select-all]"))) updateBulkCount();
  });

  // Ask before irreversible actions (reject, merge, return...).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
    // Close the user menu when clicking elsewhere.
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  }, true);

  // A form must not be sent twice by a double click (the server is idempotent anyway).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method && form.method.toLowerCase() === "post") {
      if (form.dataset.submitting === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
      window.setTimeout(function () { delete form.dataset.submitting; }, 4000);
    }
  });

  // Re-enable forms that htmx swapped in.
  document.addEventListener("htmx:afterSwap", updateBulkCount);
})();
