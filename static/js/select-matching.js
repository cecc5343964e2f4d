// The extension list's "select all N matching" (docs/ui.md, "Selecting across pages"): once every
// box of the page is ticked, the banner offers the whole filter; choosing it sets the bulk form's
// scope to "matching", so the server applies the action to every extension the filter matches
// (evaluated again at confirmation) instead of the ticked ids. Unticking any box goes back to
// the page. Runs after select-all.js, which ticks the boxes.
(function () {
  var banner = document.getElementById("select-matching");
  var master = document.querySelector('input[data-select-all="ids"]');
  var scope = document.querySelector("input[data-selection-scope]");
  if (!banner || !master || !scope) {
    return;
  }
  var pageNote = banner.querySelector('[data-selection="page"]');
  var allNote = banner.querySelector('[data-selection="matching"]');

  function boxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type=checkbox][name="ids"]'));
  }
  function allTicked() {
    var list = boxes();
    return list.length > 0 && list.every(function (box) { return box.checked; });
  }
  function show(state) { // "none", "page" or "matching"
    banner.hidden = state === "none";
    pageNote.hidden = state !== "page";
    allNote.hidden = state !== "matching";
    scope.value = state === "matching" ? "matching" : "page";
  }

  master.addEventListener("change", function () {
    show(master.checked ? "page" : "none");
  });
  boxes().forEach(function (box) {
    box.addEventListener("change", function () {
      master.checked = allTicked();
      show(master.checked ? "page" : "none");
    });
  });
  banner.querySelector("[data-select-matching]").addEventListener("click", function () {
    show("matching");
  });
  banner.querySelector("[data-clear-selection]").addEventListener("click", function () {
    boxes().forEach(function (box) { box.checked = false; });
    master.checked = false;
    show("none");
  });
  show(allTicked() ? "page" : "none"); // a page restored with its boxes ticked
})();
