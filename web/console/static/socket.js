// The console websocket (/console/ws): live frames about the world, each with a
// per-process increasing seq. After a drop it reconnects with backoff and asks for
// the frames after the last seq it applied ({"type":"resume","after":N}); the server
// replays them, or says "reset" when they are too old, and the console reloads by
// REST. Frames with a seq already applied are dropped, so a replay never doubles.

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30000;

// openSocket connects and keeps connecting until close(). cb:
//   hello(frame, fresh)  a socket is ready; fresh is true on the first one, and when
//                        the server's seq went backwards (it restarted): the caller
//                        (re)loads by REST then
//   event(frame)         a world frame not seen before
//   reset()              frames were lost: reload by REST
//   ack(frame), error(frame)  answers to "send"
//   down(everUp)         the socket closed; everUp: a hello was seen before
//   failed()             a connection closed before its hello (maybe the session ended)
//   ended()              the server closed the socket with 4001: the session ended
//
// The first frame of a socket that resumes must be the resume (web/console/PROTOCOL.md):
// hello's callback runs after it, so what it sends comes second.
export function openSocket(cb) {
  const url = new URL("/console/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";

  let ws = null;
  let ready = false; // hello seen on ws
  let everUp = false;
  let lastSeq = -1; // -1: no hello yet
  let helloSeq = 0;
  let attempt = 0;
  let timer = 0;
  let closed = false;

  function connect() {
    if (ws || closed) return;
    let sock;
    try {
      sock = new WebSocket(url.href);
    } catch (e) {
      retry();
      return;
    }
    ws = sock;
    ready = false;
    sock.addEventListener("message", (ev) => {
      if (ws !== sock || typeof ev.data !== "string") return;
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f === "object") onFrame(f, sock);
    });
    sock.addEventListener("close", (ev) => {
      if (ws !== sock) return;
      ws = null;
      const wasReady = ready;
      ready = false;
      document.documentElement.dataset.socket = "down";
      if (closed) return;
      if (ev.code === 4001) {
        cb.ended();
        return;
      }
      if (!wasReady) cb.failed();
      cb.down(everUp);
      retry();
    });
  }

  function retry() {
    if (timer || closed) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 16));
    attempt++;
    const wait = ceiling / 2 + Math.random() * (ceiling / 2);
    timer = setTimeout(() => {
      timer = 0;
      connect();
    }, wait);
  }

  function onFrame(f, sock) {
    const seq = Number.isInteger(f.seq) ? f.seq : null;
    switch (f.type) {
      case "hello": {
        if (seq === null) return;
        ready = true;
        attempt = 0;
        helloSeq = seq;
        let fresh = false;
        if (lastSeq < 0 || seq < lastSeq) {
          // The first socket, or a restarted server with a new seq space.
          lastSeq = seq;
          fresh = true;
        } else if (seq > lastSeq) {
          sock.send(JSON.stringify({ type: "resume", after: lastSeq }));
        }
        everUp = true;
        document.documentElement.dataset.socket = "up";
        cb.hello(f, fresh);
        break;
      }
      case "event":
        if (seq === null || seq <= lastSeq) return;
        lastSeq = seq;
        cb.event(f);
        break;
      case "reset":
        lastSeq = Math.max(lastSeq, helloSeq, seq ?? 0);
        cb.reset();
        break;
      case "ack":
        cb.ack(f);
        break;
      case "error":
        cb.error(f);
        break;
      default:
      // A newer server's frame: ignored.
    }
  }

  connect();

  return {
    // send writes a frame; false when no socket is ready (the caller falls back).
    send(f) {
      if (!ws || !ready || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(f));
      return true;
    },
    ready: () => !!ws && ready,
    // now reconnects at once (the browser came back online).
    now() {
      if (ws || closed) return;
      clearTimeout(timer);
      timer = 0;
      attempt = 0;
      connect();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
      ws = null;
      document.documentElement.dataset.socket = "down";
    },
  };
}
