// The media side of a meeting: one RTCPeerConnection to the SFU, negotiated
// with the `offer` message (docs/signaling.md, "SDP: a browser's media path").
//
// The microphone and camera go out as sendonly transceivers; every track of
// the others comes in on a recvonly transceiver of its own, named to the
// server by its MID in `receive`. A new offer follows each track-published
// and track-unpublished event. Each remote participant gets a tile: its
// name, its video, an <audio> element playing its sound, and a stats line.
//
// TODO(#5): no reconnect: a dropped socket or a network change ends the call (the SFU takes no
// ICE restart by offer), and the person reloads the page to join again.

const STATS_PERIOD_MS = 1000;
// Gathering host candidates takes milliseconds; a browser with no network
// it may use (Chromium on a machine with loopback only) never finishes.
const GATHER_LIMIT_MS = 5000;

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

/** Waits until the connection has gathered every candidate (the SFU takes
 * no trickle ICE), or GATHER_LIMIT_MS; true when gathering completed. */
function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve(true);
    const done = (complete) => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve(complete);
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done(true);
    };
    const timer = setTimeout(() => done(false), GATHER_LIMIT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class Call {
  constructor({ signaling, tiles, selfId, onError }) {
    this.signaling = signaling;
    this.selfId = selfId; // this page's participant id (its own tile is not a remote one)
    this.tiles = tiles;
    this.onError = onError;
    this.pc = null;
    this.local = null; // the microphone and camera, or null when receiving only
    this.participants = new Map(); // participant id -> { name, tile, caption, stats }
    this.receiving = new Map(); // track id -> { track, transceiver, element }
    this.queue = Promise.resolve();
    this.statsTimer = null;
    this.early = []; // events that came before start (while the camera was asked for)
  }

  /** Sends ``local`` (a MediaStream, or null) and receives the tracks of ``joined``. */
  async start(local, joined) {
    this.local = local;
    this.pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
    this.pc.addEventListener("track", (event) => this.showTrack(event));
    this.pc.addEventListener("connectionstatechange", () => {
      if (this.pc.connectionState === "failed") {
        this.onError(new Error("the media connection to the server failed (ICE or DTLS)"));
      }
    });
    for (const track of local ? local.getTracks() : []) {
      this.pc.addTransceiver(track, { direction: "sendonly", streams: [local] });
    }
    for (const participant of joined.participants) this.addParticipant(participant);
    for (const track of joined.tracks) this.receive(track);
    for (const event of this.early.splice(0)) this.handle(event, { offer: false });
    await this.negotiate();
    const refresh = () => this.showStats().catch((error) => this.onError(error));
    this.statsTimer = setInterval(refresh, STATS_PERIOD_MS);
  }

  /** Follows a meeting event (offering again when tracks change); true when it was the call's. */
  handle(event, { offer = true } = {}) {
    const ofTheCall = event.type.startsWith("track-") || event.type.startsWith("participant-");
    if (this.pc === null && ofTheCall) {
      this.early.push(event);
      return true;
    }
    switch (event.type) {
      case "participant-joined":
      case "participant-updated":
        this.addParticipant(event.participant);
        return true;
      case "participant-left":
        this.removeParticipant(event.participant_id);
        return true;
      case "track-published":
        this.receive(event.track);
        if (offer) this.negotiate();
        return true;
      case "track-unpublished":
        this.stopReceiving(event.track_id);
        if (offer) this.negotiate();
        return true;
      default:
        return false;
    }
  }

  /** Turns the local ``kind`` ("audio" or "video") off or on, here and for the others. */
  async mute(kind, muted) {
    const tracks = kind === "audio" ? this.local?.getAudioTracks() : this.local?.getVideoTracks();
    for (const track of tracks ?? []) track.enabled = !muted;
    await this.signaling.request("mute", { kind, muted });
  }

  close() {
    clearInterval(this.statsTimer);
    this.pc?.close();
    for (const track of this.local ? this.local.getTracks() : []) track.stop();
    for (const participantId of [...this.participants.keys()]) {
      this.removeParticipant(participantId);
    }
  }

  // --- participants and their tiles ---

  addParticipant(participant) {
    if (participant.participant_id === this.selfId) return null;
    const known = this.participants.get(participant.participant_id);
    const name = participant.display_name;
    if (known) {
      known.caption.textContent = name;
      return known;
    }
    const caption = element("figcaption", {}, name);
    const stats = element("p", { class: "stats" });
    const tile = element("figure", {
      class: "tile",
      "data-participant": participant.participant_id,
    });
    tile.append(caption, stats);
    this.tiles.append(tile);
    const entry = { name, tile, caption, stats };
    this.participants.set(participant.participant_id, entry);
    return entry;
  }

  removeParticipant(participantId) {
    const entry = this.participants.get(participantId);
    this.participants.delete(participantId);
    entry?.tile.remove();
  }

  // --- tracks ---

  receive(track) {
    const kind = track.kind === "audio" ? "audio" : "video";
    const transceiver = this.pc.addTransceiver(kind, { direction: "recvonly" });
    this.receiving.set(track.track_id, { track, transceiver, element: null });
  }

  stopReceiving(trackId) {
    const entry = this.receiving.get(trackId);
    this.receiving.delete(trackId);
    if (!entry) return;
    entry.transceiver.stop();
    entry.element?.remove();
  }

  showTrack(event) {
    const entry = [...this.receiving.values()].find((e) => e.transceiver === event.transceiver);
    if (!entry) return;
    const participant =
      this.participants.get(entry.track.participant_id) ??
      this.addParticipant({ participant_id: entry.track.participant_id, display_name: "" });
    const media = element(event.track.kind, { "data-track": entry.track.track_id });
    media.autoplay = true;
    media.playsInline = true;
    // A video element shows the picture only: the sound plays through the <audio>.
    media.muted = event.track.kind === "video";
    media.srcObject = new MediaStream([event.track]);
    entry.element = media;
    participant.tile.insertBefore(media, participant.caption);
  }

  // --- negotiation ---

  /** One offer/answer round after those already queued; failures are shown. */
  negotiate() {
    this.queue = this.queue.then(() => this.offer()).catch((error) => this.onError(error));
    return this.queue;
  }

  async offer() {
    const pc = this.pc;
    if (pc.signalingState === "closed") return;
    await pc.setLocalDescription(await pc.createOffer());
    const complete = await gathered(pc);
    if (!complete && !pc.localDescription.sdp.includes("\r\na=candidate:")) {
      throw new Error(
        "this browser found no network address for the media; on a machine with " +
          "loopback only, start Chromium with --allow-loopback-in-peer-connection",
      );
    }
    const receive = {};
    for (const [trackId, { transceiver }] of this.receiving) {
      if (transceiver.mid !== null) receive[transceiver.mid] = trackId;
    }
    const answer = await this.signaling.request("offer", { sdp: pc.localDescription.sdp, receive });
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  // --- statistics (W3C webrtc-stats, inbound-rtp) ---

  async showStats() {
    if (!this.pc || this.pc.connectionState === "closed") return;
    const report = await this.pc.getStats();
    const byMid = new Map();
    for (const { track, transceiver } of this.receiving.values()) byMid.set(transceiver.mid, track);
    const lines = new Map(); // participant id -> its parts
    report.forEach((stats) => {
      const track = stats.type === "inbound-rtp" ? byMid.get(stats.mid) : undefined;
      if (!track) return;
      const jitterMs = Math.round((stats.jitter ?? 0) * 1000);
      let part = `${track.kind}: lost ${stats.packetsLost ?? 0}, jitter ${jitterMs} ms`;
      if (stats.kind === "video") part += `, ${stats.framesDecoded ?? 0} frames decoded`;
      const parts = lines.get(track.participant_id) ?? [];
      parts.push(part);
      lines.set(track.participant_id, parts);
    });
    for (const [participantId, entry] of this.participants) {
      entry.stats.textContent = (lines.get(participantId) ?? []).sort().join(" | ");
    }
  }
}
