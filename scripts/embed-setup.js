// Prepares the ipywidgets HTML manager (embed-amd.js) to run offline, without errors.
//
// scripts/vendor_js.py copies this file to vendor/html-manager/embed-setup.js, and
// nb_ipywidgets_js in _config.yml loads it after require.js and before embed-amd.js, on
// the pages that show saved widgets. It
//
// 1. maps the manager's AMD modules to this folder. The manager finds its assets (the
//    Font Awesome fonts of its CSS) beside its module's URI, which requirejs otherwise puts
//    under the page's folder (book/@jupyter-widgets/html-manager/dist/...: 404);
// 2. sets data-jupyter-widgets-cdn, where the manager looks for a widget module that it
//    does not bundle (it bundles @jupyter-widgets/base, controls and output), to a folder
//    of this site instead of https://cdn.jsdelivr.net/npm/: a third-party widget then
//    fails with a 404 of this site and never reaches for the network;
// 3. gives MathJax 3 the one MathJax 2 call that @jupyter-widgets/controls makes whenever
//    window.MathJax exists, MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]), which
//    otherwise throws "Cannot read properties of undefined (reading 'Queue')" for every
//    widget with a description.
(function () {
  "use strict";
  var script = document.currentScript;
  var here = new URL(".", script.src).href; // .../vendor/html-manager/
  window.__jupyter_widgets_assets_path__ = here;
  window.requirejs.config({
    paths: {
      "@jupyter-widgets/html-manager": here + "index",
      "@jupyter-widgets/html-manager/dist": here.slice(0, -1),
    },
  });
  script.setAttribute("data-jupyter-widgets-cdn", new URL("../widget-modules/", here).href);

  function typesetLater(elements) {
    var mathjax = window.MathJax;
    var ready = (mathjax.startup && mathjax.startup.promise) || Promise.resolve();
    ready.then(function () {
      if (typeof mathjax.typesetPromise === "function") {
        return mathjax.typesetPromise(elements);
      }
    });
  }

  function addHub() {
    var mathjax = window.MathJax;
    if (!mathjax || !mathjax.version || mathjax.Hub) {
      return; // no MathJax on this page, or MathJax 2 itself
    }
    mathjax.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
            typesetLater([job[2]]);
          }
        });
      },
    };
  }

  // MathJax is a deferred script: it has run by DOMContentLoaded, and widgets render later,
  // on the window's load event.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addHub);
  } else {
    addHub();
  }
})();
