// The lead import and import job pages: poll the job's status every 2 s and move the bar until it finishes.
(function () {
  "use strict";
  const box = document.getElementById("import-progress");
  if (!box) return;
  const bar = box.querySelector("[data-bar]");
  // No style attribute in the page (the Content-Security-Policy forbids inline style): the
  // width is set here, through the CSSOM, which the policy allows.
  bar.style.width = bar.dataset.percent + "%";
  if (box.dataset.finished === "1") return;
  function show(data) {
    for (const el of box.querySelectorAll("[data-field]")) {
      const key = el.dataset.field;
      if (key === "eta") {
        el.textContent = data.eta_seconds === null ? "" : "· about " + data.eta_seconds + " s left";
      } else if (key in data) {
        el.textContent = data[key];
      }
    }
    bar.style.width = data.percent + "%";
    bar.textContent = data.percent + " %";
    bar.parentElement.setAttribute("aria-valuenow", data.percent);
  }
  function poll() {
    fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return setTimeout(poll, 5000);
        show(data);
        // Ended, or stalled since the page was drawn: the page itself shows the result and
        // the buttons that fit (the job pages draw them, this script only moves the counts).
        if (data.finished || (data.stale && box.dataset.stale === "0")) {
          window.location.reload();
        } else {
          setTimeout(poll, 2000);
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
