// The demo page's client: one-time token, WebSocket connect, reconnect with exponential
// backoff and full jitter (a fresh token each time), ping and broadcast. It speaks only
// to the URL the server configured, so it runs unchanged against the local emulator and
// the real API Gateway. window.realtimeDemo exposes its state to the browser tests.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("demo-config").textContent);
  const el = (id) => document.getElementById(id);
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 30000;

  // The protocol version this page speaks (app/realtime/protocol.py); lowered when a server
  // of the previous release answers that it does not speak it (during a rollback).
  const state = { socket: null, attempt: 0, wanted: false, connectionId: null, frames: [], nextRef: 1, version: 2 };
  window.realtimeDemo = state;

  function show(text, kind = "info") {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = `${new Date().toISOString().slice(11, 23)} ${text}`;
    el("log").prepend(item);
  }

  function setStatus(value) {
    el("status").textContent = value;
    el("status").dataset.state = value;
    const open = value === "connected";
    el("connect").disabled = state.wanted;
    el("disconnect").disabled = !state.wanted;
    el("ping").disabled = !open;
    if (el("broadcast")) el("broadcast").disabled = !open;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function fetchToken() {
    const response = await fetch(config.tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
    if (!response.ok) throw new Error(`token request refused (HTTP ${response.status})`);
    return (await response.json()).token;
  }

  function backoffDelay(attempt) {
    // Full jitter: uniform in [0, min(cap, base * 2^attempt)].
    return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  }

  function scheduleReconnect() {
    if (!state.wanted) return;
    const delay = backoffDelay(state.attempt++);
    setStatus("reconnecting");
    show(`reconnecting in ${Math.round(delay)} ms (attempt ${state.attempt})`);
    setTimeout(open, delay);
  }

  function send(message) {
    if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
    state.socket.send(JSON.stringify({ ...message, v: state.version, ref: state.nextRef++ }));
    return true;
  }

  function receive(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      show(`unreadable frame: ${event.data}`, "error");
      return;
    }
    state.frames.push(frame);
    if (frame.type === "error" && Array.isArray(frame.supported)) {
      state.version = Math.max(...frame.supported);
      show(`server speaks protocol ${frame.supported.join(", ")}: switching to ${state.version}`, "error");
    }
    if (frame.type === "pong") {
      state.connectionId = frame.connection_id;
      el("connection-id").textContent = frame.connection_id;
    }
    show(`${frame.type}: ${JSON.stringify(frame)}`);
  }

  async function open() {
    if (!state.wanted) return;
    setStatus("connecting");
    let token;
    try {
      token = await fetchToken();
    } catch (error) {
      show(error.message, "error");
      scheduleReconnect();
      return;
    }
    const url = new URL(config.wsUrl);
    url.searchParams.set("ws_token", token);
    url.searchParams.set("channel", el("channel").value);
    const socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = () => {
      state.attempt = 0;
      setStatus("connected");
      show(`connected to ${config.wsUrl} in channel ${el("channel").value}`);
      send({ action: "ping" });
    };
    socket.onmessage = receive;
    socket.onclose = (event) => {
      if (state.socket !== socket) return;
      state.socket = null;
      state.connectionId = null;
      show(`closed (code ${event.code})`, state.wanted ? "error" : "info");
      if (state.wanted) scheduleReconnect();
      else setStatus("disconnected");
    };
  }

  el("connect").addEventListener("click", () => {
    state.wanted = true;
    state.attempt = 0;
    open();
  });
  el("disconnect").addEventListener("click", () => {
    state.wanted = false;
    if (state.socket) state.socket.close(1000, "user");
    setStatus("disconnected");
  });
  el("ping").addEventListener("click", () => send({ action: "ping" }));
  el("channel").addEventListener("change", () => send({ action: "join", channel: el("channel").value }));
  const form = el("broadcast-form");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send({ action: "broadcast", channel: el("channel").value, text: el("broadcast-text").value });
      el("broadcast-text").value = "";
    });
  }
  setStatus("idle");
  if (config.autoConnect) el("connect").click();
})();
