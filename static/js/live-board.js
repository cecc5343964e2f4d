/* The live board: re-fetch the server-rendered board every few seconds and swap it in.
 * Paused while the tab is hidden (a wallboard tab left open all day costs nothing then). */
(function () {
  "use strict";
  var board = document.getElementById("live-board");
  var status = document.getElementById("board-status");
  if (!board) {
    return;
  }
  var url = board.dataset.url;
  var every = Number(board.dataset.refreshMs) || 3000;
  var normal = status.textContent;

  function refresh() {
    if (document.hidden) {
      setTimeout(refresh, every);
      return;
    }
    fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.redirected || response.status === 401 || response.status === 403) {
        status.textContent = "Your session has ended: reload the page to log in again.";
        return null; // stop polling: every further answer would be the login page
      }
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.text().then(function (html) {
        // Our own fragment: Django escaped every value in it.
        board.innerHTML = html;
        status.textContent = normal;
        status.classList.remove("text-danger");
        setTimeout(refresh, every);
      });
    }).catch(function () {
      status.textContent = "Cannot reach the server — showing the last known state, retrying.";
      status.classList.add("text-danger");
      setTimeout(refresh, every);
    });
  }

  setTimeout(refresh, every);
})();
