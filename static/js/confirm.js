// Forms marked data-confirm="question" ask before submitting. A script file rather than an
// onsubmit attribute: the Content-Security-Policy allows no inline script.
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
});
