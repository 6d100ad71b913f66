// The join page: sign in, join the meeting of the URL, send and receive.
//
// Only the device id is kept (localStorage, so this browser counts as one
// device); the session token lives in memory and the passwords nowhere.
//
// TODO(#5): the full web client is a later issue: no screen share, chat, raised hands, host
// controls (admit, mute others, remove, lock), device choice or speaker layout here.
// TODO(#5): the token is kept nowhere, so a reload signs in again and opens a new session.

import { Call } from "./call.js";
import { Signaling } from "./signaling.js";

const DEVICE_KEY = "cloudlink.join.device";
const PASSWORD_CODES = new Set(["meeting_password_required", "wrong_meeting_password"]);
const CAMERA = { width: 640, height: 480 };

const $ = (id) => document.getElementById(id);
const meetingCode = location.pathname.split("/").filter(Boolean).pop();
const session = { signaling: null, call: null, leaving: false };

function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function showStatus(text) {
  $("status").textContent = text;
  $("status").hidden = !text;
}

function showError(error) {
  const text = error instanceof Error ? error.message : String(error);
  $("error").textContent = text;
  $("error").hidden = !text;
}

// --- step 1: sign in (POST /api/auth/login) ---

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const fields = Object.fromEntries(new FormData(form));
  form.password.value = "";
  showError("");
  showStatus("Signing in…");
  form.querySelector("button").disabled = true;
  try {
    const response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...fields, device_id: deviceId(), device_name: "web browser" }),
    });
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const message = answer?.error?.message ?? `sign-in failed (HTTP ${response.status})`;
      throw new Error(message);
    }
    form.hidden = true;
    await connect(answer.token);
  } catch (error) {
    // Back to the form, on a closed socket (its close is no news then).
    session.leaving = true;
    session.signaling?.close();
    form.hidden = false;
    showStatus("");
    showError(error);
  } finally {
    form.querySelector("button").disabled = false;
  }
}

// --- step 2: the signaling socket, hello and join ---

async function connect(token) {
  showStatus("Connecting…");
  session.leaving = false;
  session.signaling = await Signaling.open({ onEvent, onClose });
  await session.signaling.request("hello", { token, device_id: deviceId() });
  await join(undefined);
}

async function join(password) {
  showStatus("Joining…");
  let joined;
  try {
    joined = await session.signaling.request("join", { meeting: meetingCode, password });
  } catch (error) {
    if (!PASSWORD_CODES.has(error.code)) throw error;
    $("meeting-password").hidden = false;
    showStatus("");
    if (error.code === "wrong_meeting_password") showError(error);
    return;
  }
  $("meeting-password").hidden = true;
  if (joined.participant.state === "waiting") {
    showStatus("Waiting for the host to let you in…");
    return;
  }
  await enter(joined);
}

async function submitMeetingPassword(event) {
  event.preventDefault();
  const password = event.target.password.value;
  event.target.password.value = "";
  showError("");
  try {
    await join(password);
  } catch (error) {
    showError(error);
  }
}

// --- step 3: the media ---

async function enter(joined) {
  $("topic").textContent = joined.meeting.topic;
  session.call = new Call({
    signaling: session.signaling,
    tiles: $("tiles"),
    selfId: joined.participant.participant_id,
    onError: showError,
  });
  showStatus("Asking for the microphone and camera…");
  let local = null;
  try {
    local = await navigator.mediaDevices.getUserMedia({ audio: true, video: CAMERA });
    $("self-video").srcObject = local;
    showStatus("");
  } catch (error) {
    showStatus(
      `No microphone or camera (${error.name}): you see and hear the others, they do not.`,
    );
  }
  $("mute-audio").disabled = $("mute-video").disabled = local === null;
  $("call").hidden = false;
  await session.call.start(local, joined);
}

async function toggleMute(button, kind) {
  const muted = button.getAttribute("aria-pressed") !== "true";
  try {
    await session.call.mute(kind, muted);
    setMuted(button, muted);
  } catch (error) {
    showError(error);
  }
}

function setMuted(button, muted) {
  button.setAttribute("aria-pressed", String(muted));
  const kind = button.id === "mute-audio" ? "microphone" : "camera";
  button.textContent = kind === "microphone"
    ? (muted ? "Unmute microphone" : "Mute microphone")
    : (muted ? "Turn camera on" : "Turn camera off");
}

async function leave() {
  session.leaving = true;
  try {
    await session.signaling.request("leave");
  } catch (error) {
    showError(error);
  }
  end("You left the meeting. Reload the page to join again.");
}

function end(text) {
  session.call?.close();
  session.call = null;
  session.signaling?.close();
  $("call").hidden = true;
  showStatus(text);
}

// --- what the server says unasked ---

function onEvent(event) {
  if (session.call?.handle(event)) return;
  switch (event.type) {
    case "admitted":
      enter(event).catch(showError);
      break;
    case "muted-by-host":
      for (const track of session.call?.local?.getAudioTracks() ?? []) track.enabled = false;
      setMuted($("mute-audio"), true);
      showStatus("The host muted your microphone.");
      break;
    case "removed":
      session.leaving = true;
      showError(`You were removed from the meeting (${event.reason}).`);
      end("");
      break;
    case "meeting-ended":
      session.leaving = true;
      end("The meeting has ended.");
      break;
    case "signed-out":
      session.leaving = true;
      showError("Your session has ended: reload the page to sign in again.");
      end("");
      break;
    case "server-error":
      showError(`${event.error.message} (${event.error.code})`);
      break;
    default:
      break;
  }
}

function onClose(event) {
  if (session.leaving) return;
  showError(`The connection to the server closed (code ${event.code}).`);
  end("");
}

$("sign-in").addEventListener("submit", signIn);
$("meeting-password").addEventListener("submit", submitMeetingPassword);
$("mute-audio").addEventListener("click", (event) => toggleMute(event.target, "audio"));
$("mute-video").addEventListener("click", (event) => toggleMute(event.target, "video"));
$("leave").addEventListener("click", leave);
