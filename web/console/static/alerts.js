// Alerts for a conversation that enters one of the agent's queues (or is assigned to
// them): a short beep made with WebAudio (no audio file), a count in the tab's title
// ("(2) Parley console") until the agent opens those conversations, and a browser
// notification when the agent allowed them and the tab is not in front.

const TITLE = "Parley console";

const pending = new Set(); // conversation ids alerted and not opened yet
let audio = null;
let beeps = 0;

// unlockAudio makes the AudioContext on a user gesture: browsers keep audio muted
// until the page was interacted with.
export function unlockAudio() {
  if (audio || typeof AudioContext !== "function") return;
  try {
    audio = new AudioContext();
  } catch (e) {
    audio = null;
  }
}

function beep() {
  beeps++;
  document.documentElement.dataset.beeps = String(beeps);
  if (!audio) return;
  if (audio.state === "suspended") audio.resume().catch(() => {});
  const t = audio.currentTime;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = "sine";
  osc.frequency.setValueAtTime(880, t);
  osc.frequency.setValueAtTime(1175, t + 0.12);
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
  osc.connect(gain).connect(audio.destination);
  osc.start(t);
  osc.stop(t + 0.32);
}

function renderTitle() {
  document.title = pending.size ? "(" + pending.size + ") " + TITLE : TITLE;
}

export const reasons = {
  handoff: "New conversation",
  assigned: "Assigned to you",
  requeue: "Back in the queue",
  timeout: "Still waiting",
};

// alert signals a conversation; what it says (queue, customer) is shown as text.
// onOpen is called when the agent clicks the notification.
export function alert(conversationID, reason, queue, who, onOpen) {
  pending.add(conversationID);
  renderTitle();
  beep();
  if (typeof Notification !== "function" || Notification.permission !== "granted" || !document.hidden) return;
  try {
    const n = new Notification((reasons[reason] || "Conversation") + (queue ? " in " + queue : ""), {
      body: who || "",
      tag: "parley-" + conversationID,
    });
    n.addEventListener("click", () => {
      window.focus();
      onOpen(conversationID);
      n.close();
    });
  } catch (e) {
    // Notifications from a page are refused on some platforms (Android): the title and the beep remain.
  }
}

// seen takes a conversation out of the title's count.
export function seen(conversationID) {
  if (pending.delete(conversationID)) renderTitle();
}

export function clear() {
  pending.clear();
  renderTitle();
}

export function count() {
  return pending.size;
}

// notificationsAskable reports whether a button may ask for notifications.
export function notificationsAskable() {
  return typeof Notification === "function" && Notification.permission === "default";
}

export function askNotifications() {
  if (typeof Notification !== "function") return Promise.resolve("denied");
  return Notification.requestPermission();
}
