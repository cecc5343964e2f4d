// The extension form's agent picker: a search box above select[data-agent-search] that asks
// the server (GET <url>?q=) for matching agents without an active phone and lists them in the
// select. Without this script the select still lists every free agent. A file, not inline: the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  document.querySelectorAll("select[data-agent-search]").forEach(function (select) {
    var url = new URL(select.dataset.agentSearch, window.location.href);
    var search = document.createElement("input");
    search.type = "search";
    search.className = "form-control form-control-sm mb-1";
    search.placeholder = "Search agents by username or name";
    search.setAttribute("aria-label", "Search agents");
    search.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(search, select);
    var status = document.createElement("div");
    status.className = "form-text";
    status.setAttribute("role", "status");
    select.parentNode.insertBefore(status, select.nextSibling);
    var timer = null, asked = 0;
    function show(data, ticket) {
      if (ticket !== asked) return; // an older answer arriving late
      var chosen = select.value;
      var keep = Array.prototype.filter.call(select.options, function (option) {
        return option.value === "" || option.value === chosen;
      });
      select.replaceChildren.apply(select, keep);
      data.agents.forEach(function (agent) {
        if (String(agent.id) === chosen) return;
        var option = document.createElement("option");
        option.value = agent.id;
        option.textContent = agent.label;
        select.appendChild(option);
      });
      status.textContent = data.agents.length + " agent(s) without a phone" +
        (data.more ? ", more: type more of the name" : "");
    }
    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var ticket = ++asked;
        url.searchParams.set("q", search.value);
        fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) { if (data) show(data, ticket); });
      }, 200);
    });
  });
})();
