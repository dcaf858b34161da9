// The call form's recorder: MediaRecorder with a timeslice, each chunk POSTed as soon as it
// exists (so a crash or a closed tab loses at most the last one), and the lock released with
// navigator.sendBeacon when the tab goes away. Everything else on the page is htmx.
// Messages go through Django's JavaScript catalogue (base.html loads it): django.gettext and
// django.interpolate, with French source strings like the templates.
(function () {
  "use strict";
  const box = document.getElementById("recorder");
  if (!box) return;
  const gettext = window.django.gettext;
  const interpolate = window.django.interpolate;
  const csrf = box.dataset.csrf;
  const startButton = document.getElementById("mic-start");
  const stopButton = document.getElementById("mic-stop");
  const status = document.getElementById("mic-status");
  const errorBox = document.getElementById("mic-error");
  let recorder = null, stream = null, session = null, index = 0, startedAt = 0;
  let uploads = Promise.resolve();
  let leaving = false;
  let finished = Promise.resolve();
  let resolveFinished = function () {};

  // Browsers give a page the microphone only in a secure context (HTTPS or localhost):
  // elsewhere navigator.mediaDevices does not even exist. Say so instead of failing later.
  if (!window.isSecureContext || !navigator.mediaDevices) {
    document.getElementById("mic-insecure").hidden = false;
    startButton.disabled = true;
  }

  function post(url, body, contentType) {
    const headers = { "X-CSRFToken": csrf };
    if (contentType) headers["Content-Type"] = contentType;
    return fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new Error(data.error || interpolate(gettext("Erreur %s"), [response.status]));
          return data;
        });
      });
  }

  function chooseMimeType() {
    const candidates = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus"];
    for (const type of candidates) {
      if (window.MediaRecorder && MediaRecorder.isTypeSupported(type)) return type;
    }
    return "";
  }

  function showError(message) { errorBox.textContent = message; }

  function enablePickers() {
    const pickers = document.getElementById("pickers");
    if (pickers) pickers.disabled = false;
    const hint = document.getElementById("pickers-hint");
    if (hint) hint.remove();
  }

  function sendChunk(blob) {
    if (!blob || blob.size === 0) return;
    const url = session.chunk_url.replace(/\/0\/$/, "/" + index + "/");
    index += 1;
    uploads = uploads.then(function () {
      return post(url, blob, blob.type || "application/octet-stream").then(function (data) {
        status.textContent = interpolate(gettext("Enregistrement en cours… %(kilobytes)s Ko envoyés"),
          { kilobytes: Math.round(data.size_bytes / 1024) }, true);
      });
    }).catch(function (error) {
      showError(error.message);
      if (recorder && recorder.state !== "inactive") recorder.stop();
    });
  }

  startButton.addEventListener("click", async function () {
    showError("");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      showError(interpolate(gettext("Micro indisponible (%(error)s) : autorisez le micro ou cochez « Continuer sans enregistrement vocal »."),
        { error: error.name }, true));
      return;
    }
    const mimeType = chooseMimeType();
    const form = new FormData();
    form.append("mime_type", mimeType);
    try {
      session = await post(box.dataset.startUrl, form);
    } catch (error) {
      showError(error.message);
      stream.getTracks().forEach(function (track) { track.stop(); });
      return;
    }
    index = 0;
    recorder = new MediaRecorder(stream, mimeType ? { mimeType: mimeType } : undefined);
    recorder.addEventListener("dataavailable", function (event) { sendChunk(event.data); });
    recorder.addEventListener("stop", function () {
      const duration = (Date.now() - startedAt) / 1000;
      stream.getTracks().forEach(function (track) { track.stop(); });
      uploads.then(function () {
        const done = new FormData();
        done.append("duration_seconds", duration.toFixed(2));
        return post(session.stop_url, done);
      }).then(function (data) {
        status.textContent = interpolate(gettext("Enregistrement terminé : %(kilobytes)s Ko, %(seconds)s s."),
          { kilobytes: Math.round(data.size_bytes / 1024), seconds: Math.round(data.duration_seconds) }, true);
        box.dataset.state = "stopped";
      }).catch(function (error) { showError(error.message); }).finally(resolveFinished);
      startButton.hidden = false;
      stopButton.hidden = true;
    });
    finished = new Promise(function (resolve) { resolveFinished = resolve; });
    startedAt = Date.now();
    recorder.start(parseInt(box.dataset.timeslice, 10) || 2000);
    box.dataset.state = "recording";
    status.textContent = gettext("Enregistrement en cours…");
    startButton.hidden = true;
    stopButton.hidden = false;
    enablePickers();
  });

  stopButton.addEventListener("click", function () {
    if (recorder && recorder.state !== "inactive") recorder.stop();
  });

  // Submitting or abandoning leaves on purpose: the server handles the lock then. A running
  // recording is stopped first and its last chunk uploaded before the form goes.
  document.querySelectorAll("#call-form, #abandon-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      leaving = true;
      if (!recorder || recorder.state === "inactive") return;
      event.preventDefault();
      if (event.submitter && event.submitter.name) {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = event.submitter.name;
        hidden.value = event.submitter.value;
        form.appendChild(hidden);
      }
      recorder.stop();
      finished.then(function () { form.submit(); });
    });
  });

  window.addEventListener("pagehide", function () {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    if (leaving) return;
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrf);
    data.append("beacon", "1");
    data.append("token", box.dataset.token);
    navigator.sendBeacon(box.dataset.abandonUrl, data);
  });
})();
