// Reveal and copy the SIP password of the provisioning card (a file: the
// Content-Security-Policy allows no inline script).
document.querySelectorAll("[data-secret-toggle]").forEach(function (button) {
  button.addEventListener("click", function () {
    var input = document.getElementById(button.getAttribute("aria-controls"));
    var hidden = input.type === "password";
    input.type = hidden ? "text" : "password";
    button.textContent = hidden ? "Hide" : "Show";
  });
});
document.querySelectorAll("[data-secret-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var input = document.getElementById(button.getAttribute("aria-controls"));
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    // Older browsers, plain-http pages and denied permissions have no async clipboard.
    var fallback = function () {
      var type = input.type;
      input.type = "text"; input.select(); document.execCommand("copy");
      input.type = type; input.setSelectionRange(0, 0); done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fallback);
    } else {
      fallback();
    }
  });
});
