// Storefront page behaviour (no inline scripts: the CSP forbids them).
// Marks the page as scripted so controls that only matter without JS (the time-zone "Change"
// button; the select submits itself) can be hidden by storefront.css.
(function () {
  "use strict";
  document.documentElement.classList.add("sf-js");
})();
