// Business signup: live preview of the subdomain (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("slug");
    var preview = document.getElementById("slug-preview");
    var name = document.getElementById("business_name");
    if (!input || !preview) return;
    var domain = preview.dataset.domain || "";
    var touched = input.value !== "";
    function suggest(text) {
      return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
    }
    function render() {
      var strong = document.createElement("strong");
      strong.textContent = (input.value || preview.dataset.placeholder || "yourname") + "." + domain;
      preview.textContent = (preview.dataset.label || "Your page:") + " ";
      preview.appendChild(strong);
    }
    input.addEventListener("input", function () { touched = input.value !== ""; render(); });
    if (name) {
      name.addEventListener("input", function () {
        if (!touched) { input.value = suggest(name.value); render(); }
      });
    }
    render();
  });
})();
