// The interactive API docs (/docs): Swagger UI, served from static/vendor, reading this app's own schema.
// A file of its own because the page's CSP allows no inline script.
window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null, // no badge from validator.swagger.io: the page makes no request outside its origin
  deepLinking: true,
});
