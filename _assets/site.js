// Small fixes to the theme's behaviour, loaded on every page.
(function () {
  "use strict";
  // pydata-sphinx-theme 0.17 and sphinx-book-theme both bind their sidebar handlers to the FIRST
  // .primary-toggle / .secondary-toggle in the page, a navbar button that this theme hides; the
  // visible button in the article header got no handler, so the menu could not be opened on a
  // phone nor the sidebar hidden on a desktop (pydata-sphinx-theme issue 2451). Forward clicks on
  // every other toggle to the first one, which carries both themes' handlers.
  function forwardToggles() {
    [".primary-toggle", ".secondary-toggle"].forEach(function (selector) {
      var buttons = document.querySelectorAll(selector);
      for (var i = 1; i < buttons.length; i++) {
        buttons[i].addEventListener("click", function (event) {
          event.preventDefault();
          event.stopPropagation();
          buttons[0].click();
        });
      }
    });
  }
  // A printed table (two or more lines with columns separated by runs of spaces) keeps its
  // lines and scrolls inside its box; any other output wraps (site.css).
  function markTables() {
    document.querySelectorAll(".cell_output div.highlight pre").forEach(function (pre) {
      var columns = pre.textContent.split("\n").filter(function (line) {
        return /\S {2,}\S/.test(line);
      });
      if (columns.length >= 2) {
        pre.classList.add("output-table");
      }
    });
  }
  function ready() {
    forwardToggles();
    markTables();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
