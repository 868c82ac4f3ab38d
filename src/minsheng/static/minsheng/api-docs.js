// Starts the vendored Swagger UI on /api/v1/docs. An external file because the site's
// Content-Security-Policy allows no inline script; the schema URL comes from a data attribute.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") return;
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no call to an outside validator: the intranet has no internet
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    persistAuthorization: false,
  });
})();
