// The demo page's client: one-time token, WebSocket connect, reconnect with exponential
// backoff and full jitter (a fresh token each time), ping and broadcast, a heartbeat and a
// renewal against API Gateway's connection limits, and API Gateway's own error frames. It
// speaks only to the URL the server configured, so it runs unchanged against the local
// emulator and the real API Gateway. window.realtimeDemo exposes its state to the browser
// tests.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("demo-config").textContent);
  const el = (id) => document.getElementById(id);
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 30000;
  // API Gateway closes a connection idle for config.idleTimeoutSeconds (10 minutes), and any
  // connection after config.maxDurationSeconds (2 hours) (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html).
  // Only a data frame is sure to count as activity (a browser cannot send a ping frame):
  // after half the idle timeout without sending anything (5 minutes), the page sends
  // {"action": "heartbeat"}, which the server answers with nothing.
  const HEARTBEAT_FRACTION = 0.5;
  // At 90% of the maximum duration (1 h 48 min) the page opens a new connection, and closes
  // the old one once the new one is open, so no frame is missed and no close is seen.
  const RENEW_FRACTION = 0.9;
  const heartbeatMs = config.idleTimeoutSeconds * 1000 * HEARTBEAT_FRACTION;
  const renewMs = config.maxDurationSeconds * 1000 * RENEW_FRACTION;

  // The protocol version this page speaks (app/realtime/protocol.py); lowered when a server
  // of the previous release answers that it does not speak it (during a rollback).
  const state = {
    socket: null, attempt: 0, wanted: false, connectionId: null, frames: [], nextRef: 1, version: 2,
    // The connection being replaced by a renewal, closed once its successor is open.
    retiring: null, heartbeats: 0, renewals: 0, gatewayErrors: [],
  };
  let heartbeatTimer = null;
  let renewTimer = null;
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
    armHeartbeat();
    return true;
  }

  // Every frame sent restarts the quiet period: a busy page sends no heartbeat.
  function armHeartbeat() {
    clearTimeout(heartbeatTimer);
    heartbeatTimer = setTimeout(() => {
      if (send({ action: "heartbeat" })) state.heartbeats++;
    }, heartbeatMs);
  }

  function stopTimers() {
    clearTimeout(heartbeatTimer);
    clearTimeout(renewTimer);
  }

  function renew() {
    if (!state.wanted || !state.socket) return;
    show("renewing the connection before the gateway's maximum duration");
    state.retiring = state.socket;
    state.renewals++;
    open();
  }

  // API Gateway's own frames when an integration call fails or exceeds 29 s: no "type",
  // {"message": "Internal server error" | "Endpoint request timed out", "connectionId",
  // "requestId"} (docs/architecture.md, "Connection limits"). The connection stays open.
  function isGatewayError(frame) {
    return frame.type === undefined && typeof frame.message === "string";
  }

  function receive(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      show(`unreadable frame: ${event.data}`, "error");
      return;
    }
    if (isGatewayError(frame)) {
      state.gatewayErrors.push(frame);
      show(`gateway error: ${frame.message} (request ${frame.requestId || "unknown"})`, "error");
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
      if (state.retiring) {
        state.retiring.close(1000, "renewed");
        state.retiring = null;
      }
      clearTimeout(renewTimer);
      renewTimer = setTimeout(renew, renewMs);
      send({ action: "ping" });
    };
    socket.onmessage = receive;
    socket.onclose = (event) => {
      if (state.socket !== socket) return;
      stopTimers();
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
    stopTimers();
    if (state.retiring) state.retiring.close(1000, "user");
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
