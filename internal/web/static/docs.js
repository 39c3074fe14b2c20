// Renders /openapi.yaml with Swagger UI. Kept in a file (not inline) so the
// page works under the Content-Security-Policy "script-src 'self'".
window.addEventListener("load", function () {
  window.SwaggerUIBundle({
    url: "/openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
});
