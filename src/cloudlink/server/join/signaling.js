// The signaling socket (docs/signaling.md): requests answered by id, events
// handed to one callback.

/** A refused request: the server's error code and message. */
export class SignalingError extends Error {
  constructor(type, code, message) {
    super(`${type}: ${message} (${code})`);
    this.code = code;
  }
}

export class Signaling {
  /** Opens /api/signaling on this page's host (wss when the page is https). */
  static async open({ onEvent, onClose }) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/api/signaling`);
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener(
        "error",
        () => reject(new Error("the signaling connection to the server could not be opened")),
        { once: true },
      );
    });
    return new Signaling(socket, onEvent, onClose);
  }

  constructor(socket, onEvent, onClose) {
    this.socket = socket;
    this.nextId = 1;
    this.pending = new Map(); // request id -> { resolve, reject, type }
    socket.addEventListener("message", (event) => this.receive(event.data, onEvent));
    socket.addEventListener("close", (event) => {
      for (const { reject } of this.pending.values()) {
        reject(new Error(`the server closed the connection (code ${event.code})`));
      }
      this.pending.clear();
      onClose(event);
    });
  }

  /** Sends one request; resolves with the `ok` answer, rejects with a SignalingError. */
  request(type, fields = {}) {
    const id = this.nextId++;
    if (this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("the connection to the server is closed"));
    }
    this.socket.send(JSON.stringify({ type, id, ...fields }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, type }));
  }

  receive(data, onEvent) {
    const message = JSON.parse(data);
    const waiting = this.pending.get(message.id);
    if (waiting && (message.type === "ok" || message.type === "error")) {
      this.pending.delete(message.id);
      if (message.type === "ok") waiting.resolve(message);
      else {
        const { code, message: text } = message.error;
        waiting.reject(new SignalingError(waiting.type, code, text));
      }
      return;
    }
    if (message.type === "error") {
      onEvent({ type: "server-error", error: message.error });
      return;
    }
    onEvent(message);
  }

  close() {
    this.socket.close();
  }
}
