/* Live fragments (the live board, a campaign's dialer page): every element with
 * data-live-url re-fetches that server-rendered fragment every data-refresh-ms and swaps it
 * in; data-live-status names the element that says whether it is up to date. Paused while
 * the tab is hidden (a wallboard tab left open all day costs nothing then). */
(function () {
  "use strict";

  function follow(box) {
    var url = box.dataset.liveUrl;
    var every = Number(box.dataset.refreshMs) || 3000;
    var status = document.getElementById(box.dataset.liveStatus || "");
    var normal = status ? status.textContent : "";

    function say(text, failing) {
      if (!status) {
        return;
      }
      status.textContent = text;
      status.classList.toggle("text-danger", failing);
    }

    function refresh() {
      if (document.hidden) {
        setTimeout(refresh, every);
        return;
      }
      fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 403) {
          say("Your session has ended: reload the page to log in again.", true);
          return null; // stop polling: every further answer would be the login page
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text().then(function (html) {
          // Our own fragment: Django escaped every value in it.
          box.innerHTML = html;
          say(normal, false);
          setTimeout(refresh, every);
        });
      }).catch(function () {
        say("Cannot reach the server — showing the last known state, retrying.", true);
        setTimeout(refresh, every);
      });
    }

    setTimeout(refresh, every);
  }

  document.querySelectorAll("[data-live-url]").forEach(follow);
})();
