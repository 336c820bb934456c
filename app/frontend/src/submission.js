// The result page, live: watch the submission over Socket.IO and update the summary
// (queued -> running check i of n -> verdict and score) as events arrive. The socket
// carries only that (a few hundred bytes: the live state, and events): a finished check
// shows as one line (its title and status) until the verdict; then the checks, rendered
// by the server, come once: the fragment GET /submissions/<id>/checks (the same Jinja
// partial as the page) is fetched and swapped in, so the rendering lives in one place.
//
// Without this script the page is complete as served, and refreshes itself while pending.

import { io } from "socket.io-client";
import { format, pageLang, readJSON } from "./strings.js";

const QUEUE_REFRESH_MS = 5000;
const STATUS_ICONS = { passed: "✓", failed: "✗", skipped: "–", running: "…" };
const POLL_MS = 3000;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function watch(root) {
  const id = Number(root.dataset.id);
  const strings = readJSON("submission-strings");
  const lang = pageLang();
  const summary = document.getElementById("summary");
  const verdictBox = document.getElementById("summary-verdict");
  const scoreBox = document.getElementById("summary-score");
  const messageBox = document.getElementById("summary-message");
  const progressBox = document.getElementById("summary-progress");
  const tookBox = document.getElementById("summary-took");
  const reloadNote = document.getElementById("reload-note");
  if (reloadNote) reloadNote.hidden = true; // live updates instead of reloads
  const notice = element("p", "live-notice");
  notice.hidden = true;
  summary.appendChild(notice);

  let state = Object.assign({ done: 0 }, readJSON("submission-state"));
  const servedPending = state.status === "queued" || state.status === "running";
  let current = null; // the check running now: {index, total, title, id, since}
  let clockTimer = null;
  let lastProgress = null;
  let queueTimer = null;
  let pollTimer = null;
  let failures = 0;

  const pending = () => state.status === "queued" || state.status === "running";
  const pick = (text) => (text && typeof text === "object" ? text[lang] || text.en || "" : text || "");

  // The running check as the server described it (a snapshot's `running`, with the time it
  // has run so far): the clock counts on from there, whatever this computer's clock says.
  function runningFrom(running, total) {
    if (!running) return null;
    return {
      index: running.index,
      total: total || state.total,
      title: pick(running.title),
      id: running.id,
      since: performance.now() - (running.elapsed_ms || 0),
    };
  }
  current = runningFrom(state.running, state.total);

  function showNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  // -- the summary ----------------------------------------------------------------------
  function badge() {
    const verdict = state.verdict;
    const node = element("span", `verdict verdict-${verdict || "pending"}`);
    const icon = element("span", "verdict-icon", verdict === "passed" ? "✓" : verdict === "failed" ? "✗" : verdict ? "!" : "…");
    icon.setAttribute("aria-hidden", "true");
    node.appendChild(icon);
    node.appendChild(
      document.createTextNode(verdict ? (strings.verdict || {})[verdict] || verdict.toUpperCase() : (strings.status || {})[state.status] || state.status),
    );
    return node;
  }

  function render() {
    summary.dataset.status = state.status;
    summary.dataset.verdict = state.verdict || "";
    verdictBox.replaceChildren(badge());
    scoreBox.replaceChildren();
    if (state.verdict && state.score !== null && state.score !== undefined) {
      scoreBox.appendChild(document.createTextNode(`${strings.score} `));
      scoreBox.appendChild(element("strong", null, `${Math.round(state.score * 100)}%`));
    }
    messageBox.textContent = state.message ? pick(state.message) : state.error || "";
    if (tookBox) {
      // "Graded in 2.1 s.": the server's words for the time (the live state's graded_in)
      const took = !pending() && state.graded_in ? pick(state.graded_in) : "";
      tookBox.textContent = took ? format(strings.graded_in, { time: took }) : "";
      tookBox.hidden = !took;
    }
    renderProgress();
  }

  function renderProgress() {
    let text = "";
    let bar = null;
    let announced = false; // said to screen readers only: the badge shows the verdict
    if (state.status === "queued") {
      text = format(strings.queued, { num: state.position || 1 });
    } else if (state.status === "running") {
      const total = state.total || (current && current.total);
      if (current && current.index >= state.done) {
        text = format(strings.running_check, { index: current.index + 1, total: current.total || total || "?", title: current.title });
      } else if (total) {
        text = format(strings.running, { done: state.done, total });
      } else {
        text = strings.starting;
      }
      if (total) bar = { max: total, value: Math.min(state.done, total) };
    } else if (state.verdict && servedPending) {
      // announce the verdict only when it arrived while the page was open
      text = format(strings.finished, { verdict: (strings.verdict || {})[state.verdict] || state.verdict });
      announced = true;
    }
    const running = state.status === "running" && current && current.index >= state.done;
    const key = `${text}|${bar ? bar.value : ""}|${running ? current.since : ""}`;
    if (key === lastProgress) return;
    lastProgress = key;
    const nodes = [];
    if (text) {
      const line = element("p", running ? "running-now" : announced ? "visually-hidden" : null, text);
      if (running) {
        // outside what the live region announces: a screen reader hears the check's name
        // once, not a number every second
        const clock = element("span", "running-clock");
        clock.setAttribute("aria-hidden", "true");
        line.appendChild(clock);
      }
      nodes.push(line);
    }
    if (bar) {
      const progress = element("progress");
      progress.max = bar.max;
      progress.value = bar.value;
      progress.setAttribute("aria-label", strings.checks_finished);
      progress.textContent = `${bar.value} / ${bar.max}`;
      nodes.push(progress);
    }
    progressBox.replaceChildren(...nodes);
    tick();
  }

  function tick() {
    clearTimeout(clockTimer);
    const clock = progressBox.querySelector(".running-clock");
    if (!clock || !current) return;
    const seconds = Math.max(0, Math.floor((performance.now() - current.since) / 1000));
    clock.textContent = ` — ${format(strings.seconds, { num: seconds })}`;
    clockTimer = setTimeout(tick, 1000 - ((performance.now() - current.since) % 1000));
  }

  // -- the checks -----------------------------------------------------------------------
  let refreshing = false;
  let refreshFailures = 0;
  const finishedChecks = new Map(); // index -> its check_finished event, until the verdict

  // Fetch the server's list (one at a time; whatever was asked meanwhile is settled by
  // syncChecks once it is in).
  async function refreshChecks() {
    if (refreshing) return;
    refreshing = true;
    let html = null;
    try {
      const response = await fetch(root.dataset.checksUrl, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.ok) html = await response.text();
    } catch (error) {
      /* tried again below */
    }
    refreshing = false;
    if (html === null) {
      refreshFailures += 1;
      if (refreshFailures <= 5) setTimeout(refreshChecks, POLL_MS);
      return;
    }
    refreshFailures = 0;
    merge(html);
    syncChecks();
  }

  // The list as the state says: the server's checks once graded (fetched once); while
  // running, a line per finished check from the events, the server's list filling a gap
  // (an event missed, or one sent before the page joined).
  function syncChecks() {
    if (!pending()) {
      if (renderedStatus() !== state.status) refreshChecks();
      return;
    }
    addLines();
    placeholder();
  }

  // Swap in the server's list, keeping the checks already shown (and the <details> the
  // learner opened or closed in them) as they are.
  function merge(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.querySelector("#checks");
    const old = document.getElementById("checks");
    if (!fresh || !old) return;
    for (const item of Array.from(fresh.querySelectorAll("[data-check-id]"))) {
      const kept = Array.from(old.querySelectorAll("[data-check-id]:not([data-placeholder]):not([data-line])")).find(
        (candidate) => candidate.dataset.checkId === item.dataset.checkId,
      );
      if (kept) item.replaceWith(kept);
    }
    old.replaceWith(fresh);
  }

  function renderedDone() {
    const region = document.getElementById("checks");
    return region ? Number(region.dataset.done || 0) : 0;
  }

  function renderedStatus() {
    const region = document.getElementById("checks");
    return region ? region.dataset.status : "";
  }

  function checkList(region) {
    let list = region.querySelector("ol.checks");
    if (!list) {
      list = element("ol", "checks");
      list.setAttribute("role", "list");
      region.insertBefore(list, region.firstChild);
    }
    return list;
  }

  // A check as one line, its status and title, as the server's list shows its head.
  function checkLine(status, checkId, title) {
    const item = element("li", `check check-${status}`);
    item.dataset.checkId = checkId || "";
    const head = element("div", "check-head");
    const badge = element("span", `check-status check-status-${status}`);
    const icon = element("span", "check-status-icon", STATUS_ICONS[status] || "!");
    icon.setAttribute("aria-hidden", "true");
    badge.appendChild(icon);
    badge.appendChild(document.createTextNode((strings.check_status || {})[status] || status));
    head.appendChild(badge);
    head.appendChild(element("h3", "check-title", title));
    item.appendChild(head);
    return item;
  }

  // The check running now, shown at the end of the list until its result arrives.
  function placeholder() {
    const region = document.getElementById("checks");
    if (!region) return;
    const old = region.querySelector("[data-placeholder]");
    if (old) old.remove();
    if (state.status !== "running" || !current || current.index < renderedDone()) return;
    const item = checkLine("running", current.id, current.title);
    item.setAttribute("data-placeholder", "");
    checkList(region).appendChild(item);
  }

  // The finished checks the list lacks, each as one line (its details come with the
  // verdict), from the events received; short of events, from the server's list.
  function addLines() {
    const region = document.getElementById("checks");
    if (!region || refreshing) return;
    let done = renderedDone();
    while (finishedChecks.has(done)) {
      const event = finishedChecks.get(done);
      const item = checkLine(event.check_status || "error", event.check_id, pick(event.title));
      item.setAttribute("data-line", "");
      region.querySelector("[data-placeholder]")?.remove();
      checkList(region).appendChild(item);
      done += 1;
    }
    region.dataset.done = String(done);
    if (state.done > done) refreshChecks();
  }

  // -- live updates ---------------------------------------------------------------------
  function applySnapshot(snap) {
    state = {
      status: snap.status,
      position: snap.position,
      verdict: snap.verdict,
      score: snap.score,
      error: snap.error,
      total: snap.total,
      message: snap.message,
      graded_in: snap.graded_in,
      done: snap.done || 0,
    };
    if (!pending()) current = null;
    else if (snap.running) {
      const fresh = runningFrom(snap.running, snap.total);
      // the same check as the one being shown keeps its clock (events are more precise)
      if (!current || current.id !== fresh.id || current.index !== fresh.index) current = fresh;
    }
    render();
    syncChecks();
    scheduleQueueRefresh();
    if (!pending()) finish();
  }

  function handle(event) {
    switch (event.event) {
      case "started":
        state.status = "running";
        state.position = null;
        render();
        break;
      case "check_started":
        state.status = "running";
        state.total = event.total;
        current = { index: event.index, total: event.total, title: pick(event.title), id: event.check_id, since: performance.now() };
        render();
        placeholder();
        break;
      case "check_finished":
        state.status = "running";
        state.total = event.total;
        state.done = Math.max(state.done, event.index + 1);
        finishedChecks.set(event.index, event);
        render();
        syncChecks();
        // why a check failed is worth a fetch now; a passed one's details wait for the verdict
        if (event.check_status === "failed" || event.check_status === "error") refreshChecks();
        break;
      case "finished":
        state.status = event.status;
        state.verdict = event.verdict;
        state.score = event.score;
        state.error = event.error;
        current = null;
        render();
        syncChecks(); // the checks, once
        if (socket && socket.connected) socket.emit("watch", { id }); // and the grader's message
        break;
      default:
        break;
    }
  }

  // While pending, ask again now and then: the queue position moves as others finish,
  // and an event lost on the way (a relay restarting) cannot leave the page behind. The
  // timer re-arms itself: an answer that never comes must not end the asking.
  function scheduleQueueRefresh() {
    clearTimeout(queueTimer);
    if (!pending()) return;
    queueTimer = setTimeout(() => {
      if (socket && socket.connected) socket.emit("watch", { id });
      scheduleQueueRefresh();
    }, QUEUE_REFRESH_MS);
  }

  // Without a socket (blocked, or refused): poll the live state until graded.
  function startPolling() {
    if (pollTimer || !pending()) return;
    const poll = async () => {
      try {
        const response = await fetch(root.dataset.liveUrl, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.ok) applySnapshot(await response.json());
      } catch (error) {
        /* try again */
      }
      pollTimer = pending() ? setTimeout(poll, POLL_MS) : null;
    };
    pollTimer = setTimeout(poll, 0);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  function finish() {
    clearTimeout(queueTimer);
    clearTimeout(clockTimer);
    stopPolling();
    showNotice("");
    if (socket) socket.disconnect();
  }

  let socket = null;
  render();
  if (!pending()) return; // graded when the page was served: nothing to watch

  socket = io({
    path: "/socket.io",
    // WebSocket only: no long-polling session tied to one web process (no sticky
    // sessions behind a proxy), one connection per page.
    transports: ["websocket"],
    reconnectionDelayMax: 10000,
  });
  socket.on("connect", () => {
    failures = 0;
    stopPolling();
    showNotice("");
    socket.emit("watch", { id }); // on every (re)connect: join the room and resync
    scheduleQueueRefresh(); // and again until graded, even if this one goes unanswered
  });
  socket.on("disconnect", (reason) => {
    if (!pending() || reason === "io client disconnect") return;
    showNotice(strings.reconnecting);
    // the client reconnects by itself after a lost connection, not after the server's
    // own disconnect (a web process shutting down): ask again then too
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
  });
  socket.on("connect_error", () => {
    failures += 1;
    if (failures >= 2) {
      showNotice(strings.unavailable);
      startPolling();
    }
  });
  socket.on("watch_error", () => {
    showNotice(strings.unavailable);
    startPolling();
  });
  socket.on("snapshot", (snap) => {
    if (snap && snap.id === id) applySnapshot(snap);
  });
  socket.on("submission", (event) => {
    if (event && event.id === id) handle(event);
  });
}

const root = document.getElementById("submission");
if (root) watch(root);
