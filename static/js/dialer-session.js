// The agent's dialer session page: state and screen pop pushed by the server (server-sent
// events from agent/dialer/events/), no polling. EventSource reconnects by itself when a
// stream ends (the server closes each one after about a minute) or the network drops.
(function () {
  "use strict";
  const root = document.getElementById("dialer-session");
  if (!root || !window.EventSource) return;
  const pop = document.getElementById("screen-pop");
  const stateEl = document.getElementById("session-state");
  const pauseEl = document.getElementById("session-pause");
  const ringing = document.getElementById("session-ringing");
  const field = function (name) { return pop.querySelector('[data-pop="' + name + '"]'); };

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function item(list, text) {
    const li = document.createElement("li");
    li.textContent = text;
    list.appendChild(li);
  }
  function when(iso) { return new Date(iso).toLocaleString(); }

  function showCustomer(customer) {
    if (!customer) { pop.hidden = true; delete pop.dataset.attempt; return; }
    if (pop.dataset.attempt === customer.attempt_id) return;
    const lead = customer.lead || {};
    field("name").textContent = lead.name || "(no name)";
    field("number").textContent = customer.number;
    field("timezone").textContent = lead.timezone || "";
    field("list").textContent = lead.list || "";
    field("attempts").textContent = lead.attempts === undefined ? "" : String(lead.attempts);
    const data = field("data");
    clear(data);
    Object.entries(lead.data || {}).forEach(function (pair) {
      const dt = document.createElement("dt");
      dt.className = "col-sm-3";
      dt.textContent = pair[0];
      const dd = document.createElement("dd");
      dd.className = "col-sm-9";
      dd.textContent = pair[1];
      data.appendChild(dt);
      data.appendChild(dd);
    });
    const previous = field("previous");
    clear(previous);
    (lead.previous || []).forEach(function (p) {
      item(previous, when(p.at) + ": " + p.status + (p.disposition ? " (" + p.disposition + ")" : "") +
        (p.agent ? ", " + p.agent : ""));
    });
    if (!previous.firstChild) item(previous, "None: this is the first call.");
    const notes = field("notes");
    clear(notes);
    (lead.notes || []).forEach(function (n) {
      item(notes, when(n.at) + (n.disposition ? " (" + n.disposition + ")" : "") + ": " + n.notes);
    });
    if (!notes.firstChild) item(notes, "None.");
    pop.dataset.attempt = customer.attempt_id;
    pop.dataset.shownAt = String(Date.now()); // read by the browser test (answer -> screen)
    pop.hidden = false;
  }

  function show(screen) {
    const session = screen.session;
    if (!session) { window.location.reload(); return; } // the session ended elsewhere
    root.dataset.state = session.state;
    stateEl.textContent = session.state_label;
    pauseEl.textContent = session.pause ? "(" + session.pause + ")" : "";
    ringing.hidden = session.phone_answered;
    // In wrap-up on a campaign that requires a disposition, Ready and Pause would be refused:
    // the disposition form's "Then" is the way on.
    const locked = Boolean(session.disposition_required);
    document.getElementById("disposition-required").hidden = !locked;
    root.querySelectorAll("[data-show-in]").forEach(function (form) {
      form.hidden = form.dataset.showIn.split(" ").indexOf(session.state) < 0 ||
        (locked && form.hasAttribute("data-leaves-wrapup"));
    });
    // Preview mode: the lead reserved for this agent, in the same card, with Dial and Skip.
    const preview = screen.preview;
    const lead = preview && preview.lead;
    const previewing = Boolean(lead) && !screen.customer;
    document.getElementById("preview-actions").hidden = !previewing;
    document.getElementById("preview-empty").hidden = !(preview && !lead);
    document.getElementById("pop-title").textContent = previewing ? "Next lead" : "Customer";
    showCustomer(previewing ? {attempt_id: "preview-" + lead.id, number: lead.number, lead: lead}
                            : screen.customer);
    // The wrap-up form (agent-dispositions.js, shared with the agent panel) for the call
    // just ended; closed when the wrap-up is over (saved, Ready, or the campaign's limit).
    if (session.state === "wrap_up" && screen.customer) {
      document.dispatchEvent(new CustomEvent("agentpanel:call", {detail: {
        call_id: screen.customer.attempt_id, is_live: false, campaign: session.campaign}}));
    } else {
      document.dispatchEvent(new CustomEvent("wrapup:close"));
    }
  }

  const source = new EventSource(root.dataset.eventsUrl);
  source.addEventListener("screen", function (event) { show(JSON.parse(event.data)); });
})();
