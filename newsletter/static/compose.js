/* Composer enhancements: autosave, unsaved-changes warning, drag to reorder, live preview.
   Everything here is optional: without it, the editor's buttons submit the form. */
(function () {
  "use strict";

  var AUTOSAVE_DELAY = 1500; // ms after the last keystroke
  var AUTOSAVE_EVERY = 5000; // ms: safety net while changes are pending

  // Browser timezone for the schedule form (minutes, as getTimezoneOffset reports).
  var tz = document.getElementById("tz-offset");
  if (tz) {
    var sendAt = document.getElementById("send-at");
    var setOffset = function () {
      var when = sendAt && sendAt.value ? new Date(sendAt.value) : new Date();
      tz.value = String(when.getTimezoneOffset());
    };
    setOffset();
    if (sendAt) sendAt.addEventListener("change", setOffset);
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // Send progress: poll the stats while the issue is sending.
  var progress = document.getElementById("send-progress");
  if (progress) {
    var showProgress = function () {
      fetch(progress.getAttribute("data-stats-url"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          var done = s.sent + s.failed + s.skipped;
          var pct = s.recipients ? Math.floor((100 * done) / s.recipients) : 100;
          document.getElementById("send-bar").value = pct;
          document.getElementById("send-percent").textContent = pct + "%";
          document.getElementById("send-figures").textContent =
            s.status + ": " + s.sent + " sent, " + s.failed + " failed, " + s.skipped +
            " skipped, " + s.remaining + " remaining of " + s.recipients + " (" + s.rate_per_s + "/s)";
          if (s.status === "sending") window.setTimeout(showProgress, 1000);
        })
        .catch(function () { window.setTimeout(showProgress, 3000); });
    };
    showProgress();
  }

  var form = document.getElementById("issue-form");
  if (!form || form.querySelector("fieldset[disabled]")) return;

  var status = document.getElementById("save-status");
  var list = document.getElementById("item-list");
  var url = form.getAttribute("data-autosave-url");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var version = 0; // bumped on every change
  var savedVersion = 0; // the version the server has
  var saving = false;
  var stopped = false;
  var timer = null;

  function show(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.className = kind || "muted";
  }

  function dirty() {
    return version !== savedVersion;
  }

  function changed() {
    if (stopped) return;
    version += 1;
    show("Unsaved changes…");
    clearTimeout(timer);
    timer = setTimeout(save, AUTOSAVE_DELAY);
  }

  function refreshPreview() {
    var stamp = "t=" + Date.now();
    document.querySelectorAll("iframe.email-frame").forEach(function (frame) {
      var src = frame.getAttribute("src").replace(/([?&])t=\d+&?/, "$1").replace(/[?&]$/, "");
      frame.setAttribute("src", src + (src.indexOf("?") < 0 ? "?" : "&") + stamp);
    });
    var text = document.getElementById("preview-text");
    if (text) {
      fetch(text.getAttribute("data-url"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (body) { text.textContent = body; })
        .catch(function () { /* the next save tries again */ });
    }
  }

  function save() {
    if (saving || stopped || !dirty()) return Promise.resolve();
    saving = true;
    var sending = version;
    show("Saving…");
    return fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) { return { response: response, body: body }; },
          function () { return { response: response, body: null }; });
      })
      .then(function (result) {
        var response = result.response;
        if (response.ok) {
          savedVersion = sending;
          var at = new Date(result.body && result.body.saved_at ? result.body.saved_at : Date.now());
          show(dirty() ? "Unsaved changes…" : "Saved at " + at.toLocaleTimeString(), dirty() ? "muted" : "ok");
          refreshPreview();
          if (dirty()) timer = setTimeout(save, AUTOSAVE_DELAY);
          return;
        }
        var message = result.body && result.body.error ? result.body.error.message : "HTTP " + response.status;
        if (response.status === 409) {
          stopped = true; // no longer a draft: stop, and do not warn on leaving
          savedVersion = version;
          show("Not saved: " + message, "error");
        } else {
          show("Not saved: " + message, "error");
        }
      })
      .catch(function () {
        show("Not saved: the server cannot be reached; retrying…", "error");
      })
      .then(function () { saving = false; });
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    // An explicit save or button submits everything: nothing left to warn about.
    savedVersion = version;
    clearTimeout(timer);
  });
  setInterval(function () { if (dirty()) save(); }, AUTOSAVE_EVERY);

  window.addEventListener("beforeunload", function (event) {
    if (dirty() && !stopped) {
      event.preventDefault();
      event.returnValue = "";
      return "";
    }
  });

  // Drag to reorder: moves the <li> (and with it its hidden `order` input).
  if (list) {
    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("li.item");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.getAttribute("data-post-id"));
    });
    list.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var over = event.target.closest("li.item");
      if (!over || over === dragged) return;
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (event) { event.preventDefault(); });
    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      renumber();
      changed();
    });
  }

  // Keep the no-JS buttons sensible after a drag (first cannot go up, last cannot go down).
  function renumber() {
    var items = list.querySelectorAll("li.item");
    items.forEach(function (li, index) {
      var up = li.querySelector("button[value^='up:']");
      var down = li.querySelector("button[value^='down:']");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === items.length - 1;
    });
  }

  // Exposed for tests and the console: save now and resolve when done.
  window.composer = { save: function () { clearTimeout(timer); return save(); }, dirty: dirty };
})();
