// Both APIs in one Swagger UI page; the documents are the repository's
// openapi.yaml files, bundled into one file each by deploy/local/gateway/docs/build.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: [
      { url: "platform-service.yaml", name: "Platform Service" },
      { url: "command-service.yaml", name: "Command Service" },
    ],
    "urls.primaryName": "Platform Service",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
