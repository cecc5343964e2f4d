// Agent panel and dialer session page, campaign calls: after a campaign call ends, show its
// dispositions and a notes box (wrap-up) until one is saved; list the callbacks due.
// agent-panel.js announces every call change with the "agentpanel:call" event, and
// dialer-session.js the dialer call in wrap-up, and "wrapup:close" when its wrap-up is over.
(function () {
  "use strict";
  const box = document.getElementById("wrapup");
  const callbacks = document.getElementById("callbacks-due");
  if (!box) return;
  const form = box.querySelector("form");
  const select = box.querySelector("#disposition");
  const notes = box.querySelector("#disposition-notes");
  const callbackRow = box.querySelector("[data-callback]");
  const message = box.querySelector("[data-message]");
  const leadInfo = box.querySelector("[data-lead]");
  let callId = null;
  let policies = {};

  function csrf() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function url(template, id) { return template.replace("00000000-0000-0000-0000-000000000000", id); }

  document.addEventListener("agentpanel:call", function (event) {
    const call = event.detail;
    if (!call || call.is_live || !call.campaign || call.call_id === callId) return;
    callId = call.call_id;
    fetch(url(box.dataset.listUrl, callId), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || data.done || !data.dispositions.length) return;
        policies = {};
        select.innerHTML = "";
        for (const item of data.dispositions) {
          policies[item.id] = item.policy;
          select.add(new Option(item.name, item.id));
        }
        leadInfo.textContent = data.lead ? (data.lead.name + " · " + data.lead.timezone + " · " +
          Object.entries(data.lead.data).map(function (kv) { return kv.join(": "); }).join(", ")) : "";
        message.textContent = data.wrapup_seconds ? "Wrap-up: pick within " + data.wrapup_seconds + " s." : "";
        notes.value = "";
        showCallback();
        box.hidden = false;
        select.focus();
      });
  });

  document.addEventListener("wrapup:close", function () { box.hidden = true; callId = null; });

  function showCallback() { callbackRow.hidden = policies[select.value] !== "callback"; }
  select.addEventListener("change", showCallback);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const body = {disposition_id: Number(select.value), notes: notes.value,
                  callback_at: box.querySelector("#callback-at").value || null,
                  callback_for: box.querySelector("#callback-for").value};
    const then = box.querySelector("#wrapup-then");  // the dialer session page only
    if (then) {
      const parts = then.value.split(":");
      body.then = parts[0];
      if (parts[1]) body.pause_code_id = Number(parts[1]);
    }
    fetch(url(box.dataset.saveUrl, callId), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return [r.ok, data]; }); })
      .then(function (result) {
        if (result[0]) { box.hidden = true; loadCallbacks(); }
        else { message.textContent = result[1].error || "Could not save."; }
      });
  });

  function loadCallbacks() {
    if (!callbacks) return;
    fetch(callbacks.dataset.url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        const list = callbacks.querySelector("ul");
        list.innerHTML = "";
        for (const item of data.callbacks) {
          const li = document.createElement("li");
          li.textContent = new Date(item.scheduled_at).toLocaleString() + " · " + item.number +
            (item.name ? " · " + item.name : "") + " · " + item.campaign + (item.mine ? "" : " (anyone)") +
            (item.note ? " · " + item.note : "");
          list.appendChild(li);
        }
        callbacks.hidden = !data.callbacks.length;
      });
  }
  loadCallbacks();
  setInterval(loadCallbacks, 60000);
})();
