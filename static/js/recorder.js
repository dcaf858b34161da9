// The call form's recorder. Nothing recorded is lost on a bad network:
// - every MediaRecorder chunk (about 1 s) is written to IndexedDB as soon as it exists;
// - an uploader sends what is waiting, in order, several chunks per request (about one request
//   every 5 s), retries with a growing delay when the network or the server fails, and never
//   stops the recorder for that; a chunk leaves IndexedDB only once the server confirmed it
//   (the server acknowledges a chunk index it already has, so retries are harmless);
// - a page opened later (reload, crash) uploads the chunks another page left behind first,
//   then finalises that recording;
// - « Valider » and « Abandonner » stop the recorder and wait for the audio, or keep the draft
//   and say why when the network is down.
// Also: a live level meter (Web Audio AnalyserNode), a warning after a long silence, the choice
// of the input device, a plain message for each way the microphone can fail, and the lock given
// back with navigator.sendBeacon when the tab goes away. Everything else on the page is htmx.
// Consent: « Refus d'enregistrement » stops the recorder, drops what this call left in IndexedDB
// (nothing of it is ever sent again) and asks the server to delete what it received.
(function () {
  "use strict";
  const box = document.getElementById("recorder");
  if (!box) return;

  const startButton = document.getElementById("mic-start");
  const stopButton = document.getElementById("mic-stop");
  const statusLine = document.getElementById("mic-status");
  const networkLine = document.getElementById("mic-network");
  const errorLine = document.getElementById("mic-error");
  const silenceLine = document.getElementById("mic-silence");
  const meter = document.getElementById("mic-level");
  const deviceBox = document.getElementById("mic-device-box");
  const deviceSelect = document.getElementById("mic-device");
  const refusalForm = document.getElementById("consent-refusal-form");

  const user = box.dataset.user;
  const timeslice = parseInt(box.dataset.timeslice, 10) || 1000;
  const batchDelay = (parseFloat(box.dataset.batchSeconds) || 5) * 1000;
  const silenceDelay = (parseFloat(box.dataset.silenceSeconds) || 10) * 1000;
  const SILENT_LEVEL = 0.01; // RMS under which a moment counts as silence (about -40 dBFS)
  const STALE_MS = 5000; // a session whose page gave no sign of life for this long is left over
  const MAX_BATCH_CHUNKS = 30;
  const MAX_BATCH_BYTES = 2 * 1024 * 1024;
  const DEVICE_KEY = "naumur-mic-device";

  // --- Messages: Django's JavaScript catalogue (base.html loads it before this script) -------
  // French source strings like the templates', with named placeholders for django.interpolate.
  const gettext = window.django.gettext;
  const interpolate = window.django.interpolate;
  const messages = {
    recording: gettext("Enregistrement en cours : %(seconds)s s, %(sent)s Ko envoyés."),
    finishing: gettext("Micro arrêté : envoi de la fin de l'audio…"),
    stopped: gettext("Enregistrement terminé : %(size)s Ko, %(seconds)s s (%(health)s)."),
    offline: gettext("Réseau coupé : l'audio est gardé sur ce poste, %(pending)s s en attente d'envoi."),
    server_down: gettext("Le serveur ne répond pas : l'audio est gardé sur ce poste, %(pending)s s en attente d'envoi."),
    sending: gettext("Envoi de l'audio en cours : %(pending)s s en attente…"),
    offline_leave: gettext("Réseau coupé : rien n'est validé pour l'instant et votre brouillon est conservé. L'audio (%(pending)s s) reste sur ce poste et partira au retour du réseau ; recommencez ensuite."),
    recovering: gettext("Reprise : envoi de %(pending)s s d'audio laissées par une page précédente…"),
    recovered: gettext("Audio de la page précédente récupéré et enregistré."),
    silence: gettext("Micro muet ? Aucun son depuis %(seconds)s s : vérifiez le micro ou le casque."),
    session_expired: gettext("Session expirée : reconnectez-vous dans un autre onglet ; l'audio reste gardé sur ce poste."),
    server_error: gettext("Erreur du serveur (%(status)s)."),
    storage_failed: gettext("Ce navigateur refuse de garder l'audio sur ce poste : une coupure de réseau pourrait en perdre."),
    offline_start: gettext("Réseau coupé : le micro n'a pas pu démarrer. Réessayez au retour du réseau."),
    device_unnamed: gettext("Micro %(number)s"),
    mic_denied: gettext("Accès au micro refusé : autorisez le micro pour ce site (icône à gauche de l'adresse), puis relancez, ou cochez « Continuer sans enregistrement vocal »."),
    mic_missing: gettext("Aucun micro trouvé : branchez un micro ou un casque, puis relancez, ou cochez « Continuer sans enregistrement vocal »."),
    mic_busy: gettext("Le micro est occupé par une autre application (ou en panne) : fermez-la, puis relancez."),
    mic_insecure: gettext("Le micro n'est disponible que sur une adresse sécurisée (https) : prévenez l'administrateur."),
    mic_unsupported: gettext("Ce navigateur ne sait pas enregistrer le son : utilisez Chrome, Edge, Firefox ou Safari à jour."),
    refusing: gettext("Refus d'enregistrement : micro arrêté, effacement de l'audio…"),
    refusal_offline: gettext("Réseau coupé : le micro est arrêté et rien ne sera plus envoyé, mais l'audio déjà reçu n'est pas encore effacé. Cliquez de nouveau « Refus d'enregistrement » au retour du réseau."),
    mic_other: gettext("Micro indisponible (%(name)s) : relancez, ou cochez « Continuer sans enregistrement vocal »."),
  };
  function say(key, values) {
    return interpolate(messages[key] || key, values || {}, true);
  }
  function showError(text) { errorLine.textContent = text || ""; }
  // The network line: what waits to be sent and why. A report of work done ("recovered") stays
  // until something new is said; the others go once nothing waits any more.
  function showNetwork(text, lasting) {
    networkLine.textContent = text || "";
    networkLine.dataset.lasting = lasting ? "1" : "";
  }

  // --- Storage: IndexedDB, or memory when the browser refuses it ----------------------------
  const store = (function () {
    const memory = { sessions: new Map(), chunks: new Map() };
    let dbPromise = null;

    function open() {
      if (dbPromise) return dbPromise;
      dbPromise = new Promise(function (resolve) {
        if (!window.indexedDB) { resolve(null); return; }
        let request;
        try { request = indexedDB.open("naumur-recorder", 1); } catch (error) { resolve(null); return; }
        request.onupgradeneeded = function () {
          const db = request.result;
          db.createObjectStore("sessions", { keyPath: "id" });
          const chunks = db.createObjectStore("chunks", { keyPath: ["recording", "index"] });
          chunks.createIndex("by-recording", "recording");
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { resolve(null); };
        request.onblocked = function () { resolve(null); };
      });
      return dbPromise;
    }

    function run(names, mode, work) {
      return open().then(function (db) {
        if (!db) return work(null);
        return new Promise(function (resolve, reject) {
          const tx = db.transaction(names, mode);
          let result;
          Promise.resolve(work(tx)).then(function (value) { result = value; });
          tx.oncomplete = function () { resolve(result); };
          tx.onerror = function () { reject(tx.error); };
          tx.onabort = function () { reject(tx.error); };
        });
      });
    }

    function requestValue(request) {
      return new Promise(function (resolve, reject) {
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }

    function memoryKey(recording, index) { return recording + ":" + index; }

    return {
      putSession: function (session) {
        return run(["sessions"], "readwrite", function (tx) {
          if (!tx) { memory.sessions.set(session.id, Object.assign({}, session)); return; }
          tx.objectStore("sessions").put(session);
        });
      },
      // A chunk and its session's progress in one transaction: both or neither.
      putChunk: function (chunk, session) {
        return run(["chunks", "sessions"], "readwrite", function (tx) {
          if (!tx) {
            memory.chunks.set(memoryKey(chunk.recording, chunk.index), chunk);
            memory.sessions.set(session.id, Object.assign({}, session));
            return;
          }
          tx.objectStore("chunks").put(chunk);
          tx.objectStore("sessions").put(session);
        });
      },
      sessions: function () {
        return run(["sessions"], "readonly", function (tx) {
          if (!tx) return Array.from(memory.sessions.values());
          return requestValue(tx.objectStore("sessions").getAll());
        });
      },
      chunks: function (recording) {
        return run(["chunks"], "readonly", function (tx) {
          let found;
          if (!tx) {
            found = Array.from(memory.chunks.values()).filter(function (c) { return c.recording === recording; });
          } else {
            found = requestValue(tx.objectStore("chunks").index("by-recording").getAll(recording));
          }
          return Promise.resolve(found).then(function (list) {
            return list.sort(function (a, b) { return a.index - b.index; });
          });
        });
      },
      deleteChunks: function (recording, indexes) {
        return run(["chunks"], "readwrite", function (tx) {
          indexes.forEach(function (index) {
            if (!tx) memory.chunks.delete(memoryKey(recording, index));
            else tx.objectStore("chunks").delete([recording, index]);
          });
        });
      },
      deleteSession: function (recording) {
        return store.chunks(recording).then(function (left) {
          return run(["chunks", "sessions"], "readwrite", function (tx) {
            left.forEach(function (chunk) {
              if (!tx) memory.chunks.delete(memoryKey(recording, chunk.index));
              else tx.objectStore("chunks").delete([recording, chunk.index]);
            });
            if (!tx) memory.sessions.delete(recording);
            else tx.objectStore("sessions").delete(recording);
          });
        });
      },
    };
  })();

  // --- Talking to the server ----------------------------------------------------------------
  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : box.dataset.csrf;
  }

  // kind: "network" (no answer), "retry" (server busy, session expired: try again later),
  // "final" (the server refuses for good: its message is shown), "gone" (nothing to send to).
  function UploadError(kind, message) { this.kind = kind; this.message = message || ""; }

  function post(url, body, contentType) {
    const headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    if (contentType) headers["Content-Type"] = contentType;
    return fetch(url, {
      method: "POST", body: body, headers: headers, credentials: "same-origin", redirect: "manual",
    }).catch(function () {
      throw new UploadError("network");
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401) {
        throw new UploadError("retry", say("session_expired"));
      }
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok && data) return data;
        if (response.status === 403 && !(data && data.error)) {
          throw new UploadError("retry", say("session_expired")); // CSRF: a new session
        }
        const message = (data && data.error) || say("server_error", { status: response.status });
        if (response.status === 404 || response.status === 410) throw new UploadError("gone", message);
        if (response.status === 400 || response.status === 413) throw new UploadError("final", message);
        throw new UploadError("retry", message);
      });
    });
  }

  // --- Sessions: one per recording, kept in IndexedDB until the server finalised it --------
  let live = null; // the session this page's MediaRecorder writes to
  const known = new Map(); // recording id -> session, as this page last saw it
  let pendingChunks = 0;
  let pendingMs = 0;
  let sentBytes = 0;
  // The respondent refused the recording of this call: none of its audio is kept or sent.
  let refused = box.dataset.consent === "refused";

  // This user's audio of this call (its company), which a refusal drops.
  function dropped(session) {
    return refused && String(session.user) === String(user) &&
      String(session.company) === String(box.dataset.company);
  }

  // This page's own sessions, and those another page of this user left behind (closed, or
  // silent for a while: a crash). Another open tab's live session is left to that tab.
  function isMine(session) {
    if (String(session.user) !== String(user)) return false;
    if (known.has(session.id)) return true;
    return session.closed || Date.now() - (session.aliveAt || 0) > STALE_MS;
  }

  function refreshPending() {
    return store.sessions().then(function (sessions) {
      const mine = sessions.filter(function (s) { return String(s.user) === String(user); });
      return Promise.all(mine.map(function (s) { return store.chunks(s.id); })).then(function (lists) {
        pendingChunks = 0;
        pendingMs = 0;
        lists.forEach(function (list) {
          pendingChunks += list.length;
          list.forEach(function (chunk) { pendingMs += chunk.durationMs || timeslice; });
        });
        box.dataset.pending = String(pendingChunks);
        return pendingChunks;
      });
    });
  }

  function pendingSeconds() { return Math.round(pendingMs / 1000); }

  function batchOf(chunks) {
    const batch = [chunks[0]];
    let bytes = chunks[0].blob.size;
    for (let i = 1; i < chunks.length && batch.length < MAX_BATCH_CHUNKS; i++) {
      const chunk = chunks[i];
      if (chunk.index !== batch[batch.length - 1].index + 1) break;
      if (bytes + chunk.blob.size > MAX_BATCH_BYTES) break;
      batch.push(chunk);
      bytes += chunk.blob.size;
    }
    return batch;
  }

  function sendBatch(session, batch) {
    const query = new URLSearchParams({
      sizes: batch.map(function (c) { return c.blob.size; }).join(","),
      durations: batch.map(function (c) { return Math.round(c.durationMs); }).join(","),
      levels: batch.map(function (c) { return c.level.toFixed(4); }).join(","),
    });
    const url = session.chunkUrl.replace(/\/0\/$/, "/" + batch[0].index + "/") + "?" + query;
    const body = new Blob(batch.map(function (c) { return c.blob; }));
    return post(url, body, "application/octet-stream").then(function (data) {
      sentBytes += body.size;
      return store.deleteChunks(session.id, data.received || batch.map(function (c) { return c.index; }));
    });
  }

  function sendStop(session) {
    const form = new FormData();
    const stopped = session.stopped || { duration: (session.lastEndMs || 0) / 1000, count: session.nextIndex };
    form.append("duration_seconds", stopped.duration.toFixed(2));
    form.append("chunk_count", String(stopped.count));
    return post(session.stopUrl, form).then(function (data) {
      return store.deleteSession(session.id).then(function () { return data; });
    });
  }

  // Upload everything waiting, oldest session first; finalise the sessions that stopped.
  async function uploadAll() {
    const sessions = (await store.sessions()).filter(isMine).sort(function (a, b) {
      return a.startedAt - b.startedAt;
    });
    for (const session of sessions) {
      const recovering = !known.has(session.id);
      for (;;) {
        if (dropped(session)) break;
        const chunks = await store.chunks(session.id);
        if (!chunks.length) break;
        if (recovering) {
          const seconds = Math.round(chunks.reduce(function (total, c) { return total + c.durationMs; }, 0) / 1000);
          showNetwork(say("recovering", { pending: seconds }));
        }
        try {
          await sendBatch(session, batchOf(chunks));
        } catch (error) {
          if (dropped(session)) break; // refused meanwhile: the server deleted that recording
          if (error.kind !== "gone" && error.kind !== "final") throw error;
          // Refused for good (a cap reached, the call already submitted...): the server will
          // never take these chunks; say why, and stop recording into that recording.
          showError(error.message);
          await store.deleteSession(session.id);
          if (live && session.id === live.id) stopRecorder();
          break;
        }
        await refreshPending();
      }
      if (dropped(session)) {
        await store.deleteSession(session.id);
        continue;
      }
      const finished = session.stopped || recovering;
      if (finished && (await store.sessions()).some(function (s) { return s.id === session.id; })) {
        try {
          const result = await sendStop(session);
          if (recovering) showNetwork(say("recovered"), true);
          else finishedRecording(result);
        } catch (error) {
          if (error.kind === "network" || error.kind === "retry") throw error;
          await store.deleteSession(session.id);
        }
      }
    }
  }

  let running = null;
  let again = false;
  let timer = null;
  let failures = 0;
  let lastFailure = null;

  // One upload round at a time; asked for during a round (the recorder stopped, say), another
  // round follows it, and the promise returned settles after that one.
  function pump() {
    if (running) {
      again = true;
      return running;
    }
    clearTimeout(timer);
    timer = null;
    running = uploadAll().then(function () {
      failures = 0;
      lastFailure = null;
      return refreshPending().then(function () {
        if (pendingChunks === 0 && !networkLine.dataset.keep && !networkLine.dataset.lasting) {
          showNetwork("");
        }
      });
    }, function (error) {
      failures += 1;
      lastFailure = error;
      return refreshPending().then(function () {
        const seconds = pendingSeconds();
        if (error.kind === "network") showNetwork(say("offline", { pending: seconds }));
        else showNetwork(say("server_down", { pending: seconds }) + (error.message ? " (" + error.message + ")" : ""));
      });
    }).then(function () {
      running = null;
      if (again) {
        again = false;
        return pump();
      }
      updateStatus();
      schedule();
    });
    return running;
  }

  function schedule() {
    if (timer) return;
    let delay = null;
    if (lastFailure) delay = Math.min(30000, 1000 * Math.pow(2, failures - 1)) * (0.75 + Math.random() / 2);
    else if (recorder && recorder.state === "recording") delay = batchDelay;
    else if (pendingChunks > 0) delay = 1000;
    if (delay !== null) timer = setTimeout(function () { timer = null; pump(); }, delay);
  }

  // Everything sent and finalised, or a rejection as soon as an upload fails.
  async function drain() {
    for (let round = 0; round < 1000; round++) {
      await pump();
      if (lastFailure) throw lastFailure;
      const sessions = (await store.sessions()).filter(function (s) { return String(s.user) === String(user); });
      const waiting = sessions.filter(function (s) { return isMine(s) && (s.stopped || !live || s.id !== live.id); });
      if (pendingChunks === 0 && waiting.length === 0) return;
    }
  }

  window.addEventListener("online", function () { failures = 0; pump(); });

  // --- Level meter and silence warning ------------------------------------------------------
  let audioContext = null, analyser = null, samples = null, levelTimer = null;
  let chunkPeak = 0, lastSoundAt = 0, shown = 0;

  function startMeter(stream) {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass) return;
    try {
      audioContext = new AudioContextClass();
      analyser = audioContext.createAnalyser();
      analyser.fftSize = 4096; // about 85 ms of sound per look, every 100 ms
      audioContext.createMediaStreamSource(stream).connect(analyser);
      samples = new Float32Array(analyser.fftSize);
    } catch (error) {
      audioContext = null;
      return;
    }
    lastSoundAt = Date.now();
    meter.hidden = false;
    levelTimer = setInterval(measure, 100);
  }

  function measure() {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
    const rms = Math.sqrt(sum / samples.length);
    chunkPeak = Math.max(chunkPeak, rms);
    // The meter jumps up with the sound and falls back slowly, so that short sounds show.
    shown = Math.max(Math.min(1, rms * 4), shown * 0.8);
    meter.value = shown;
    const now = Date.now();
    if (rms >= SILENT_LEVEL) {
      lastSoundAt = now;
      if (!silenceLine.hidden) silenceLine.hidden = true;
    } else if (now - lastSoundAt >= silenceDelay && silenceLine.hidden) {
      silenceLine.textContent = say("silence", { seconds: Math.round((now - lastSoundAt) / 1000) });
      silenceLine.hidden = false;
    }
  }

  function stopMeter() {
    clearInterval(levelTimer);
    levelTimer = null;
    if (audioContext) audioContext.close().catch(function () {});
    audioContext = null;
    shown = 0;
    meter.value = 0;
    meter.hidden = true;
    silenceLine.hidden = true;
  }

  // --- Input device -----------------------------------------------------------------------
  function listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return Promise.resolve();
    return navigator.mediaDevices.enumerateDevices().then(function (devices) {
      const inputs = devices.filter(function (d) { return d.kind === "audioinput"; });
      if (inputs.length < 2) { deviceBox.hidden = true; return; }
      const chosen = deviceSelect.value || localStorage.getItem(DEVICE_KEY) || "";
      deviceSelect.textContent = "";
      inputs.forEach(function (device, position) {
        const option = document.createElement("option");
        option.value = device.deviceId;
        option.textContent = device.label || say("device_unnamed", { number: position + 1 });
        deviceSelect.appendChild(option);
      });
      if (inputs.some(function (d) { return d.deviceId === chosen; })) deviceSelect.value = chosen;
      deviceBox.hidden = false;
    }).catch(function () {});
  }
  deviceSelect.addEventListener("change", function () {
    try { localStorage.setItem(DEVICE_KEY, deviceSelect.value); } catch (error) { /* private mode */ }
  });

  function microphoneMessage(error) {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return say("mic_insecure");
    }
    const name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return say("mic_denied");
    if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return say("mic_missing");
    if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return say("mic_busy");
    return say("mic_other", { name: name || String(error) });
  }

  async function openMicrophone() {
    const deviceId = deviceBox.hidden ? "" : deviceSelect.value;
    if (deviceId && deviceId !== "default") {
      try {
        return await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: deviceId } } });
      } catch (error) {
        if (error.name !== "OverconstrainedError" && error.name !== "NotFoundError") throw error;
      }
    }
    return navigator.mediaDevices.getUserMedia({ audio: true });
  }

  // --- Recording ----------------------------------------------------------------------------
  let recorder = null, stream = null, startedAt = 0, lastChunkAt = 0, stopped = Promise.resolve();
  let writes = Promise.resolve();

  function chooseMimeType() {
    const candidates = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
    for (const type of candidates) {
      if (MediaRecorder.isTypeSupported(type)) return type;
    }
    return "";
  }

  function enablePickers() {
    const pickers = document.getElementById("pickers");
    if (pickers) pickers.disabled = false;
    const hint = document.getElementById("pickers-hint");
    if (hint) hint.remove();
  }

  function updateStatus() {
    if (!recorder || recorder.state !== "recording") return;
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    statusLine.textContent = say("recording", { seconds: seconds, sent: Math.round(sentBytes / 1024) });
  }

  function keepChunk(blob) {
    if (!live || !blob || blob.size === 0) return; // an empty chunk takes no index
    if (refused) return;
    const now = Date.now();
    const chunk = {
      recording: live.id,
      index: live.nextIndex,
      blob: blob,
      durationMs: now - lastChunkAt,
      level: Math.min(1, chunkPeak),
    };
    lastChunkAt = now;
    chunkPeak = 0;
    live.nextIndex += 1;
    live.lastEndMs = now - startedAt;
    live.aliveAt = now;
    const session = Object.assign({}, live);
    writes = writes.then(function () {
      return store.putChunk(chunk, session);
    }).catch(function () {
      showError(say("storage_failed"));
    }).then(refreshPending);
    updateStatus();
  }

  function finishedRecording(result) {
    statusLine.textContent = say("stopped", {
      size: Math.round(result.size_bytes / 1024),
      seconds: Math.round(result.duration_seconds),
      health: result.health_label || result.health,
    });
  }

  startButton.addEventListener("click", async function () {
    showError("");
    if (!window.MediaRecorder) { showError(say("mic_unsupported")); return; }
    try {
      stream = await openMicrophone();
    } catch (error) {
      showError(microphoneMessage(error));
      return;
    }
    listDevices();
    let started;
    try {
      started = await post(box.dataset.startUrl, new FormData());
    } catch (error) {
      showError(error.kind === "network" ? say("offline_start") : error.message);
      stream.getTracks().forEach(function (track) { track.stop(); });
      return;
    }
    const mimeType = chooseMimeType();
    recorder = new MediaRecorder(stream, mimeType ? { mimeType: mimeType } : undefined);
    startedAt = lastChunkAt = Date.now();
    live = {
      id: started.recording_id, user: user, company: box.dataset.company,
      chunkUrl: started.chunk_url, stopUrl: started.stop_url,
      startedAt: startedAt, aliveAt: startedAt, nextIndex: 0, lastEndMs: 0, stopped: null,
    };
    known.set(live.id, live);
    writes = writes.then(function () { return store.putSession(Object.assign({}, live)); }).catch(function () {});
    let resolveStopped;
    stopped = new Promise(function (resolve) { resolveStopped = resolve; });
    recorder.addEventListener("dataavailable", function (event) { keepChunk(event.data); });
    recorder.addEventListener("stop", function () {
      const session = live;
      session.stopped = { duration: (Date.now() - startedAt) / 1000, count: session.nextIndex };
      stream.getTracks().forEach(function (track) { track.stop(); });
      stopMeter();
      if (!refused) statusLine.textContent = say("finishing");
      startButton.hidden = refused;
      stopButton.hidden = true;
      deviceSelect.disabled = false;
      box.dataset.state = "stopped";
      writes = writes.then(function () { return store.putSession(Object.assign({}, session)); }).catch(function () {});
      writes.then(function () {
        live = null;
        resolveStopped();
        pump();
      });
    });
    startMeter(stream);
    recorder.start(timeslice);
    box.dataset.state = "recording";
    deviceSelect.disabled = true;
    updateStatus();
    startButton.hidden = true;
    stopButton.hidden = false;
    enablePickers();
    schedule();
  });

  function stopRecorder() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    return stopped;
  }

  stopButton.addEventListener("click", function () { stopRecorder(); });

  // --- Consent refused: « Refus d'enregistrement » ------------------------------------------
  async function dropLocalAudio(ids) {
    const sessions = await store.sessions();
    for (const session of sessions) {
      if (dropped(session) || (ids || []).indexOf(session.id) >= 0) {
        await store.deleteSession(session.id);
      }
    }
    await refreshPending();
  }

  function showRefused(message) {
    document.getElementById("consent").hidden = true;
    document.getElementById("consent-refused").hidden = false;
    refusalForm.hidden = true;
    startButton.hidden = true;
    stopButton.hidden = true;
    deviceBox.hidden = true;
    statusLine.textContent = message;
    showNetwork("");
    // The call goes on as « Continuer sans enregistrement vocal » (the server noted it too).
    const waiver = document.getElementById("id_without_recording");
    if (waiver) {
      waiver.checked = true;
      waiver.disabled = true;
    }
    enablePickers();
  }

  let refusal = Promise.resolve(); // « Valider » and « Abandonner » wait for it
  let refusalUnsaved = false; // clicked, but the server has not deleted the audio yet

  if (refusalForm) refusalForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const button = refusalForm.querySelector("button");
    if (button.disabled) return;
    refusal = refuse(button);
  });

  async function refuse(button) {
    button.disabled = true;
    showError("");
    // From now on nothing of this call is kept or sent, whatever the server answers.
    refused = true;
    refusalUnsaved = true;
    startButton.hidden = true;
    statusLine.textContent = say("refusing");
    await stopRecorder();
    await writes;
    await dropLocalAudio();
    let answer;
    try {
      answer = await post(refusalForm.action, new FormData(refusalForm));
    } catch (error) {
      showError(error.kind === "network" ? say("refusal_offline") : error.message);
      // Refused by the server for good (a stale page): the page says to reload; else retry.
      refusalUnsaved = error.kind === "network" || error.kind === "retry";
      button.disabled = false;
      return;
    }
    refusalUnsaved = false;
    await dropLocalAudio(answer.recordings);
    showRefused(answer.message);
  }

  // --- Leaving on purpose: « Valider », « Abandonner » --------------------------------------
  let leaving = false;
  document.querySelectorAll("#call-form, #abandon-form").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      if (leaving) return;
      event.preventDefault();
      form.querySelectorAll("input[data-submitter]").forEach(function (input) { input.remove(); });
      if (event.submitter && event.submitter.name) {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = event.submitter.name;
        hidden.value = event.submitter.value;
        hidden.dataset.submitter = "1";
        form.appendChild(hidden);
      }
      const buttons = form.querySelectorAll("button");
      buttons.forEach(function (button) { button.disabled = true; });
      networkLine.dataset.keep = "1";
      try {
        await refusal;
        if (refusalUnsaved) {
          // Leaving now would keep audio the respondent refused: the refusal must go first.
          buttons.forEach(function (button) { button.disabled = false; });
          showError(say("refusal_offline"));
          return;
        }
        await stopRecorder();
        await writes;
        await refreshPending();
        if (pendingChunks > 0) showNetwork(say("sending", { pending: pendingSeconds() }));
        await drain();
      } catch (error) {
        await refreshPending();
        showNetwork(say("offline_leave", { pending: pendingSeconds() }));
        buttons.forEach(function (button) { button.disabled = false; });
        return;
      } finally {
        delete networkLine.dataset.keep;
      }
      leaving = true;
      form.submit();
    });
  });

  // --- The tab goes away: give the lock back (the lease's own page token) -------------------
  window.addEventListener("pagehide", function () {
    if (live && !refused) {
      // The next page may take over what this one leaves at once.
      live.closed = true;
      store.putSession(Object.assign({}, live)).catch(function () {});
    }
    if (recorder && recorder.state !== "inactive") recorder.stop();
    if (leaving) return;
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken());
    data.append("beacon", "1");
    data.append("token", box.dataset.token);
    // Audio still waiting here: the server keeps the recording open for the next page.
    data.append("audio_pending", String(pendingChunks));
    navigator.sendBeacon(box.dataset.abandonUrl, data);
  });

  // --- On load: hand in what an earlier page left behind ------------------------------------
  // Browsers give a page the microphone only in a secure context (HTTPS or localhost):
  // elsewhere navigator.mediaDevices does not even exist. Say so instead of failing later.
  if (!window.isSecureContext || !navigator.mediaDevices) {
    document.getElementById("mic-insecure").hidden = false;
  } else {
    startButton.disabled = false;
  }
  listDevices();
  refreshPending().then(function () { return pump(); });
})();
