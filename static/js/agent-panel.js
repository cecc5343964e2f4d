/* Agent panel: dialpad, click to call, live call state, hang up, transfer.
 *
 * Plain script, no framework, no build. The page is rendered by the server
 * (telephony/views/agent.py); this script talks to the call-control JSON API (docs/api.md),
 * polls the call's state about once a second while it is live, and every few seconds
 * otherwise (a call placed from another tab, a softphone that just registered).
 */
(function () {
  "use strict";

  var root = document.getElementById("agent-panel");
  if (!root) {
    return;
  }
  var urls = root.dataset;

  var POLL_LIVE_MS = 1000;
  var POLL_IDLE_MS = 5000;
  var REGISTRATION_EVERY = 3; // idle polls between registration checks (about 15 s)
  // Only a clock off by more than this is corrected: the Date header has 1 s resolution.
  var MAX_TRUSTED_SKEW_MS = 2000;

  var MESSAGES = {
    no_phone: "No active phone assigned — ask an admin to assign you an extension",
    asterisk_unreachable: "The phone system is not reachable right now. " +
      "Try again in a minute or tell your supervisor.",
    asterisk_timeout: "The phone system did not answer in time, so the call was not " +
      "placed. Try again in a minute or tell your supervisor.",
    asterisk_unconfirmed: "The phone system did not confirm the call in time, but it may " +
      "still ring your phone. Follow it here, or hang up to cancel it.",
    asterisk_auth: "The phone system refused the autodialer's login. Tell your supervisor " +
      "or an admin: the Asterisk server's AMI username or password needs fixing.",
    invalid_campaign: "That campaign is not active any more. Pick another one, or No campaign.",
    call_in_progress: "You already have a call in progress. Hang it up before placing another.",
    no_live_call: "That call has already ended.",
    call_not_answered: "Only an answered call can be transferred. Wait until the other " +
      "side picks up.",
    csrf_failed: "The page's security token has expired. Reload the page and try again.",
    request_in_progress: "Your last click is still being handled. Wait a moment.",
    invalid_request: "The page sent a request the server could not accept. " +
      "Reload the page and try again.",
    not_found: "That call could not be found.",
    not_logged_in: "Your session has ended. Log in again to keep calling.",
    forbidden: "Your account may not place calls. Ask an admin to give you the Agent role.",
    invalid_json: "The page sent a request the server could not read. " +
      "Reload the page and try again.",
    network: "Cannot reach the autodialer server. Check your network connection; " +
      "the page keeps trying.",
    unavailable: "Calling from this page is not available: the call-control API is not " +
      "installed on this server. Tell an admin.",
    empty_number: "Type a number to call first.",
    empty_target: "Type the extension or number to transfer the call to."
  };

  function $(id) {
    return document.getElementById(id);
  }

  var els = {
    dialForm: $("dial-form"),
    number: $("number"),
    campaign: $("campaign"),
    callButton: $("call-button"),
    hangup: $("hangup-button"),
    transferForm: $("transfer-form"),
    target: $("transfer-target"),
    transferButton: $("transfer-button"),
    card: $("current-call"),
    state: $("call-state"),
    detail: $("call-detail"),
    callNumber: $("call-number"),
    timer: $("call-timer"),
    message: $("panel-message"),
    recent: $("recent-calls"),
    registration: $("registration"),
    registrationText: $("registration-text"),
    settings: $("softphone-settings")
  };

  var call = null; // the last call object the API gave us
  var busy = false; // a call, hangup or transfer request of ours is in flight
  var generation = 0; // bumped by every action, so an older poll answer cannot undo it
  var pollTimer = null;
  var idlePolls = 0;
  var skewMs = 0; // server clock minus this browser's clock
  var messageKind = "";

  // --- numbers ---------------------------------------------------------------------------

  /* What can be dialled: digits, * and #, and a + only as the very first character.
   * "(555) 123-4567" -> "5551234567", "+1 555-123-4567" -> "+15551234567". */
  function cleanNumber(text) {
    var plus = /^\s*(tel:)?\s*\+/i.test(text) ? "+" : "";
    return plus + text.replace(/[^0-9*#]/g, "");
  }

  function setField(input, value, caret) {
    var cleaned = cleanNumber(value);
    input.value = cleaned;
    var at = caret === undefined ? cleaned.length : Math.min(caret, cleaned.length);
    if (document.activeElement === input) {
      input.setSelectionRange(at, at);
    }
  }

  function cleanOnInput(input) {
    input.addEventListener("input", function () {
      var value = input.value;
      var cleaned = cleanNumber(value);
      if (cleaned !== value) {
        var caret = input.selectionStart === null ? value.length : input.selectionStart;
        setField(input, value, cleanNumber(value.slice(0, caret)).length);
      }
    });
    input.addEventListener("paste", function (event) {
      var data = event.clipboardData || window.clipboardData;
      if (!data) {
        return;
      }
      event.preventDefault();
      var start = input.selectionStart === null ? input.value.length : input.selectionStart;
      var end = input.selectionEnd === null ? start : input.selectionEnd;
      var before = input.value.slice(0, start);
      var pasted = cleanNumber(data.getData("text"));
      if (before !== "") {
        pasted = pasted.replace(/^\+/, ""); // a + means something only at the start
      }
      setField(input, before + pasted + input.value.slice(end), (before + pasted).length);
    });
  }

  function pressKey(key) {
    var value = els.number.value;
    if (key === "+") {
      // + is a prefix: pressing it on a typed number puts it in front.
      setField(els.number, value.charAt(0) === "+" ? value : "+" + value);
    } else {
      setField(els.number, value + key);
    }
  }

  // --- messages ------------------------------------------------------------------------

  function showMessage(text, kind, level) {
    var box = document.createElement("div");
    box.className = "alert alert-" + (level || "danger") +
      " d-flex justify-content-between align-items-start gap-2";
    var body = document.createElement("div");
    body.textContent = text;
    if (kind === "not_logged_in") {
      var link = document.createElement("a");
      link.href = urls.loginUrl;
      link.className = "alert-link ms-1";
      link.textContent = "Log in";
      body.appendChild(link);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", "Dismiss message");
    close.addEventListener("click", clearMessage);
    box.appendChild(body);
    box.appendChild(close);
    els.message.replaceChildren(box);
    messageKind = kind || "";
  }

  function clearMessage() {
    els.message.replaceChildren();
    messageKind = "";
  }

  function explain(data, status) {
    var code = data && data.code;
    var detail = (data && data.error) || "";
    if (code === "invalid_number") {
      return "That number doesn't look right: " + (detail || "check it and try again.");
    }
    if (code === "invalid_target") {
      return "That transfer target doesn't look right: " +
        (detail || "use an extension or a full number.");
    }
    if (code === "asterisk_refused") {
      return "The phone system refused that" + (detail ? ": " + detail : ".");
    }
    if (code && MESSAGES[code]) {
      return MESSAGES[code];
    }
    if (status >= 500) {
      return "Something went wrong on the server (error " + status + "). Try again; " +
        "if it keeps happening, tell your supervisor.";
    }
    return (detail || "Something unexpected happened") + " (error " + status + ").";
  }

  // --- talking to the server -------------------------------------------------------------

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // randomUUID needs a secure context; plain-http intranets still get a random v4 UUID.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function noteServerClock(response) {
    var date = Date.parse(response.headers.get("Date") || "");
    if (!isNaN(date)) {
      var skew = date - Date.now();
      skewMs = Math.abs(skew) > MAX_TRUSTED_SKEW_MS ? skew : 0;
    }
  }

  /* Resolves to {ok, status, data} or {ok: false, code, message, network}; never rejects. */
  function api(method, url, body, headers) {
    var options = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: Object.assign({ Accept: "application/json" }, headers || {})
    };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(body || {});
    }
    return fetch(url, options).then(function (response) {
      noteServerClock(response);
      return response.json().catch(function () {
        return null;
      }).then(function (data) {
        if (response.ok && data) {
          return { ok: true, status: response.status, data: data };
        }
        if (!data && response.redirected && /\/login\//.test(response.url)) {
          data = { code: "not_logged_in" };
        }
        return { ok: false, status: response.status, code: data && data.code,
                 message: explain(data, response.status) };
      });
    }, function () {
      return { ok: false, network: true, code: "network", message: MESSAGES.network };
    });
  }

  function statusUrl(callId) {
    return urls.statusUrl.replace(urls.statusPlaceholder, encodeURIComponent(callId));
  }

  function callFrom(data) {
    // hangup/transfer answer {call}; current/status wrap it as {"call": {call}}.
    return data && data.call_id ? data : data && data.call;
  }

  // --- showing the call --------------------------------------------------------------------

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    return hours ? hours + ":" + pad(minutes) + ":" + pad(rest) : minutes + ":" + pad(rest);
  }

  function updateTimer() {
    if (!call || !call.answered_at) {
      els.timer.hidden = true;
      return;
    }
    var seconds;
    if (call.is_live) {
      seconds = (Date.now() + skewMs - Date.parse(call.answered_at)) / 1000;
    } else if (call.duration !== null && call.duration !== undefined) {
      seconds = call.duration;
    } else {
      seconds = (Date.parse(call.ended_at) - Date.parse(call.answered_at)) / 1000;
    }
    els.timer.hidden = false;
    els.timer.textContent = clock(isNaN(seconds) ? 0 : seconds);
  }

  // A call Asterisk says nothing about for this long: the event worker may be down.
  var STUCK_QUEUED_MS = 45000;
  var STUCK_DETAIL = "Still waiting for the phone system. If your phone never rang, hang up " +
    "and try again; if it keeps happening, tell your supervisor (the event listener may be " +
    "stopped).";

  var LIVE_DETAIL = {
    queued: "Placing the call — your phone rings first; answer it to be connected.",
    // Asterisk rings the agent's phone first, then dials the number once it is picked up.
    ringing: "Ringing… Pick up your phone if it rings: the number is dialled once you answer.",
    answered: "Connected."
  };

  function endedDetail(c) {
    var parts = [c.status_label];
    if (c.hangup_cause_text && c.hangup_cause_text !== c.status_label) {
      parts.push(c.hangup_cause_text);
    }
    if (c.transferred_to) {
      parts.push("transferred to " + c.transferred_to);
    }
    if (c.error) { // not in docs/api.md: the API's reason a call failed, when it gives one
      parts.push(c.error);
    }
    return parts.join(" — ");
  }

  function updateButtons() {
    var live = Boolean(call && call.is_live);
    els.callButton.disabled = busy || live;
    els.hangup.disabled = busy || !(call && call.can_hangup);
    els.transferButton.disabled = busy || !(call && call.can_transfer);
    els.target.disabled = !(call && call.can_transfer);
    els.card.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function render(c) {
    var previous = call;
    call = c;
    if (!c) {
      els.card.dataset.state = "idle";
      els.state.textContent = "No call";
      els.detail.textContent = "";
      els.callNumber.textContent = "";
    } else {
      els.card.dataset.state = c.is_live ? c.status : "ended";
      els.state.textContent = c.is_live ? c.status_label : "Call ended";
      var detail = c.is_live ? (LIVE_DETAIL[c.status] || "") : endedDetail(c);
      if (c.status === "queued" && c.created_at &&
          Date.now() + skewMs - Date.parse(c.created_at) > STUCK_QUEUED_MS) {
        detail = STUCK_DETAIL;
      }
      if (c.campaign && c.is_live) {
        detail += " Campaign: " + c.campaign + ".";
      }
      if (els.detail.textContent !== detail) {
        els.detail.textContent = detail;
      }
      els.callNumber.textContent = c.number;
    }
    updateTimer();
    updateButtons();
    // agent-dispositions.js shows the wrap-up form when a campaign call has ended.
    document.dispatchEvent(new CustomEvent("agentpanel:call", { detail: c }));
    // The list shows this call too: refresh it when the call is new or changed state.
    if (c && (!previous || previous.call_id !== c.call_id || previous.status !== c.status)) {
      refreshRecent();
    }
  }

  function renderPlacing(number) {
    els.card.dataset.state = "queued";
    els.state.textContent = "Calling…";
    els.detail.textContent = LIVE_DETAIL.queued;
    els.callNumber.textContent = number;
    els.timer.hidden = true;
  }

  // --- polling ------------------------------------------------------------------------------

  function schedule(ms) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, ms);
  }

  function clearNetworkMessage() {
    if (messageKind === "network") {
      clearMessage();
    }
  }

  function poll() {
    var started = generation;
    var work;
    if (call && call.is_live) {
      work = api("GET", statusUrl(call.call_id)).then(function (result) {
        if (started !== generation) {
          return;
        }
        if (result.ok) {
          clearNetworkMessage();
          render(callFrom(result.data));
        } else if (result.network) {
          showMessage(result.message, "network");
        } else {
          showMessage(result.message, result.code);
          if (result.status === 404 || result.status === 401 || result.status === 403) {
            render(null);
          }
        }
      });
    } else if (document.hidden) {
      work = Promise.resolve();
    } else {
      idlePolls += 1;
      if (idlePolls % REGISTRATION_EVERY === 0) {
        refreshRegistration();
      }
      work = refreshCurrent(started);
    }
    work.then(function () {
      schedule(call && call.is_live ? POLL_LIVE_MS : POLL_IDLE_MS);
    });
  }

  function refreshCurrent(started) {
    if (!urls.currentUrl) {
      return Promise.resolve();
    }
    return api("GET", urls.currentUrl).then(function (result) {
      if (started !== generation) {
        return;
      }
      if (result.ok) {
        clearNetworkMessage();
        var current = callFrom(result.data);
        // Keep showing how the last call ended until there is a newer one.
        if (current) {
          render(current);
        }
      } else if (result.network) {
        showMessage(result.message, "network");
      } else if (result.code === "not_logged_in") {
        showMessage(result.message, result.code);
      }
    });
  }

  function refreshRecent() {
    return fetch(urls.recentUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.ok && !response.redirected) {
          return response.text().then(function (html) {
            // Our own server-rendered fragment: Django escaped every value in it.
            els.recent.innerHTML = html;
          });
        }
      }).catch(function () { /* the next call's end refreshes it again */ });
  }

  function refreshRegistration() {
    if (!els.registration) {
      return;
    }
    api("GET", urls.registrationUrl).then(function (result) {
      if (!result.ok || !result.data.has_phone) {
        return;
      }
      var d = result.data;
      // The server words it (views/agent.py registration_text): Asterisk's view, reachability
      // included; a registered phone Asterisk cannot reach is not "yes".
      var text = d.text || "Your softphone is not registered";
      els.registration.dataset.registered = d.reachable ? "yes" : "no";
      els.registration.dataset.state = d.state || "";
      if (els.registrationText.textContent !== text) {
        els.registrationText.textContent = text;
      }
      if (els.settings) {
        els.settings.hidden = d.registered;
      }
    });
  }

  // --- actions ------------------------------------------------------------------------------

  function setBusy(value) {
    busy = value;
    updateButtons();
  }

  function placeCall() {
    if (busy || (call && call.is_live)) {
      return;
    }
    var number = els.number.value;
    if (!number) {
      showMessage(MESSAGES.empty_number, "empty_number", "warning");
      els.number.focus();
      return;
    }
    if (!urls.originateUrl) {
      showMessage(MESSAGES.unavailable, "unavailable");
      return;
    }
    clearMessage();
    var body = { phone_number: number };
    if (els.campaign.value) {
      body.campaign_id = Number(els.campaign.value);
    }
    generation += 1;
    var before = call;
    setBusy(true);
    renderPlacing(number);
    // One key per click: a retried request (flaky network) cannot dial the customer twice.
    api("POST", urls.originateUrl, body, { "Idempotency-Key": newKey() }).then(function (result) {
      setBusy(false);
      if (result.ok) {
        var data = result.data;
        render({ call_id: data.call_id, number: data.number || number, status: data.status,
                 status_label: data.status === "queued" ? "Queued" : data.status,
                 is_live: true, can_hangup: false, can_transfer: false });
        schedule(0);
        return;
      }
      render(before);
      var maybeQueued = result.code === "asterisk_unconfirmed";
      showMessage(result.message, result.code, maybeQueued ? "warning" : undefined);
      // An unconfirmed call is logged as queued: show it, so its events (or a hang up) can
      // follow.
      if (result.code === "call_in_progress" || maybeQueued) {
        refreshCurrent(generation).then(function () {
          schedule(0);
        });
      }
    });
  }

  function actOnCall(url, body, done) {
    if (!call || busy) {
      return;
    }
    generation += 1;
    setBusy(true);
    api("POST", url, Object.assign({ call_id: call.call_id }, body)).then(function (result) {
      setBusy(false);
      if (result.ok) {
        clearMessage();
        render(callFrom(result.data) || call);
        if (done) {
          done();
        }
      } else {
        showMessage(result.message, result.code);
      }
      schedule(0);
    });
  }

  // --- wiring -------------------------------------------------------------------------------

  cleanOnInput(els.number);
  cleanOnInput(els.target);

  els.dialForm.addEventListener("submit", function (event) {
    event.preventDefault(); // Enter in the number field lands here too
    placeCall();
  });

  document.querySelectorAll(".dialpad-key").forEach(function (button) {
    button.addEventListener("click", function () {
      pressKey(button.dataset.key);
    });
  });
  $("backspace").addEventListener("click", function () {
    els.number.value = els.number.value.slice(0, -1);
  });
  $("clear").addEventListener("click", function () {
    els.number.value = "";
    els.number.focus();
  });

  // Digits typed anywhere on the page (focus not in a field) go to the number.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    if (target && (target.isContentEditable ||
                   (target.closest && target.closest("input, textarea, select")))) {
      return;
    }
    if (/^[0-9*#+]$/.test(event.key)) {
      event.preventDefault();
      pressKey(event.key);
      els.number.focus();
      var end = els.number.value.length;
      els.number.setSelectionRange(end, end);
    }
  });

  els.hangup.addEventListener("click", function () {
    actOnCall(urls.hangupUrl, {});
  });

  els.transferForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var target = els.target.value;
    if (!target) {
      showMessage(MESSAGES.empty_target, "empty_target", "warning");
      els.target.focus();
      return;
    }
    actOnCall(urls.transferUrl, { target: target }, function () {
      els.target.value = "";
    });
  });

  els.recent.addEventListener("click", function (event) {
    var button = event.target.closest("[data-redial]");
    if (!button) {
      return;
    }
    els.number.focus();
    setField(els.number, button.dataset.redial);
  });

  setInterval(function () {
    if (call && call.is_live && call.answered_at) {
      updateTimer();
    }
  }, 250);

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      schedule(0);
    }
  });

  updateButtons();
  if (urls.currentUrl) {
    schedule(0);
  }
})();
