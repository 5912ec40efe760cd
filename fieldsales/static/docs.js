// Starts Swagger UI on /docs (kept out of the HTML so the CSP needs no 'unsafe-inline' script).
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({ url: el.dataset.specUrl, dom_id: "#swagger-ui-container" });
});
