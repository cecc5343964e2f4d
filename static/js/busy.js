// Forms marked data-busy="Testing…" are slow on the server (Test Connection, Diagnose, bulk
// create, imports, the scaffold): once sent, the button says so with a spinner and the form
// cannot be sent again until the answer arrives. A file, not inline: the Content-Security-Policy
// allows no inline script.
(function () {
  "use strict";
  function reset(form) {
    delete form.dataset.busySent;
    form.removeAttribute("aria-busy");
    form.querySelectorAll("[data-busy-original]").forEach(function (button) {
      button.disabled = false;
      button.innerHTML = button.dataset.busyOriginal;
      delete button.dataset.busyOriginal;
    });
  }
  function markBusy(form, submitter) {
    var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
    buttons.forEach(function (button) {
      button.dataset.busyOriginal = button.innerHTML;
      button.disabled = true;
    });
    var shown = submitter || buttons[0];
    if (shown && shown.tagName === "BUTTON") {
      shown.textContent = "";
      var spinner = document.createElement("span");
      spinner.className = "spinner-border spinner-border-sm me-1";
      spinner.setAttribute("aria-hidden", "true");
      shown.appendChild(spinner);
      shown.appendChild(document.createTextNode(form.dataset.busy));
    }
  }
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) return; // another handler (a confirmation) said no
      if (form.dataset.busySent) {
        event.preventDefault(); // a second click, Enter or requestSubmit(): nothing is sent
        return;
      }
      form.dataset.busySent = "1";
      form.setAttribute("aria-busy", "true");
      // The flag above stops a resend at once; the buttons are disabled only after the browser
      // has built the form data, which leaves out a disabled submitter's name=value.
      var submitter = event.submitter;
      window.setTimeout(function () { markBusy(form, submitter); }, 0);
    });
  });
  // Back from the next page (bfcache): the form is usable again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) document.querySelectorAll("form[data-busy]").forEach(reset);
  });
})();
