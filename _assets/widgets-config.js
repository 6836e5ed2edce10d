// Saved widgets (the labs' explorers) render from this site's own copy of the widget library:
// no CDN. Loaded after require.js and before npm/html-manager/embed-amd.js (see _config.yml).
(function () {
  "use strict";
  // The folder this script was served from (_static/), whatever the page's depth.
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  var manager = here + "npm/html-manager/";
  // The widget bundle finds its icon fonts next to the AMD module that defines them; by default
  // RequireJS would place that module under <page>/@jupyter-widgets/. Point every bundled module
  // at the vendored folder instead.
  window.require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": manager.slice(0, -1),
      "@jupyter-widgets/html-manager": manager + "embed-amd",
      "@jupyter-widgets/base": manager + "base",
      "@jupyter-widgets/controls": manager + "controls",
      "@jupyter-widgets/base7": manager + "base7",
      "@jupyter-widgets/controls7": manager + "controls7"
    }
  });
  // The widget library typesets labels with MathJax 2's MathJax.Hub.Queue; this site loads
  // MathJax 3, which has no Hub. Forward to MathJax 3 once it has replaced its configuration
  // object (it has by the window's load event, which is when the widgets render).
  function shim() {
    var mathjax = window.MathJax;
    if (mathjax && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (command) {
          var element = command && command[2];
          if (element && window.MathJax.typesetPromise) {
            window.MathJax.typesetPromise([element]).catch(function () {});
          }
        }
      };
    }
  }
  shim();
  window.addEventListener("DOMContentLoaded", shim);
  window.addEventListener("load", shim);
})();
