// A header checkbox data-select-all="NAME" ticks or clears every checkbox name=NAME on the page.
// A file, not inline: the Content-Security-Policy allows no inline script.
document.querySelectorAll("input[data-select-all]").forEach(function (master) {
  var name = master.getAttribute("data-select-all");
  master.addEventListener("change", function () {
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = master.checked;
    });
  });
});
